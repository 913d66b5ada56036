import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const REPO = resolve(__dirname, '..', '..');
const VALIDATE = resolve(REPO, 'tests', 'src', 'validate-k8s.mjs');

interface Verdict {
  kind: string;
  name: string | null;
  error: string | null;
}

/** Every object's verdict from kubernetes-models (Kubernetes and KEDA schemas), in a process of its own (ESM). */
const validate = (yaml: string): Verdict[] => JSON.parse(execFileSync(process.execPath, [VALIDATE], { input: yaml, encoding: 'utf8' })) as Verdict[];
const render = (overlay: string) => execFileSync('kubectl', ['kustomize', resolve(REPO, 'k8s', 'overlays', overlay)], { encoding: 'utf8' });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, read by path
const objects = (yaml: string): any[] => parseAllDocuments(yaml).map((d) => d.toJS());

describe('the Kubernetes manifests', () => {
  it.each(['dev', 'production', 'production-keda', 'production-sentinel', 'production-redis-cluster', 'production-tenants'])(
    'k8s/overlays/%s renders, and every object is valid',
    (overlay) => {
      const verdicts = validate(render(overlay));
      expect(verdicts.length).toBeGreaterThan(10);
      expect(verdicts.filter((v) => v.error !== null)).toEqual([]);
    },
  );

  it('with tenants, the orchestrator reads its API keys file from its Secret', () => {
    const orchestrator = objects(render('production-tenants')).find((o) => o.kind === 'Deployment' && o.metadata.name === 'docproc-orchestrator');
    const pod = orchestrator.spec.template.spec;
    expect(pod.containers[0].env).toContainEqual({ name: 'DOCPROC_API_KEYS_FILE', value: '/etc/docproc/api-keys/api-keys.json' });
    expect(pod.volumes).toContainEqual({ name: 'api-keys', secret: { secretName: 'docproc-api-keys' } });
  });

  it('the validator refuses what Kubernetes would', () => {
    const verdicts = validate('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two, selector: {}, template: {}}\n');
    expect(verdicts[0]!.error).toMatch(/replicas must be integer/);
  });

  it('workers drain within their grace period, run locked down, and are probed on their heartbeat', () => {
    const deployments = objects(render('production')).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      'docproc-autoscaler',
      'docproc-orchestrator',
      'docproc-worker-nlp',
      'docproc-worker-ocr',
      'docproc-worker-preprocessing',
      'docproc-worker-validation',
    ]);
    // the longest task each step may run (DOCPROC_STEP_TIMEOUT_MS defaults), in seconds
    const longest: Record<string, number> = { preprocess: 1800, ocr: 300, nlp: 120, validate: 60 };
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const container = pod.containers[0];
      expect({ name: d.metadata.name, nonRoot: pod.securityContext.runAsNonRoot, container: container.securityContext }).toEqual({
        name: d.metadata.name,
        nonRoot: true,
        container: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      });
      const step = d.metadata.labels['docproc.dev/step'];
      if (!step) continue;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(longest[step]!);
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.resources.limits.memory).toBeTruthy();
    }
  });

  it('the autoscaler may scale the pools and nothing else; with KEDA it is gone', () => {
    const production = objects(render('production'));
    const role = production.find((o) => o.kind === 'Role');
    expect(role.rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
    ]);
    const keda = objects(render('production-keda'));
    expect(keda.filter((o) => o.kind === 'Deployment').map((d) => d.metadata.name)).not.toContain('docproc-autoscaler');
    const scaled = keda.filter((o) => o.kind === 'ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([
      'docproc-worker-nlp',
      'docproc-worker-ocr',
      'docproc-worker-preprocessing',
      'docproc-worker-validation',
    ]);
    for (const s of scaled) expect(s.spec.triggers.map((t: { metadata: { query: string } }) => t.metadata.query).join(' ')).toMatch(/prioritized/);
  });
});
