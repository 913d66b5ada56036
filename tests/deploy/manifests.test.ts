import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

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
    expect(keda.filter((o) => o.metadata.name === 'docproc-autoscaler').map((o) => o.kind)).toEqual([]);
    const scaled = keda.filter((o) => o.kind === 'ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([
      'docproc-worker-nlp',
      'docproc-worker-ocr',
      'docproc-worker-preprocessing',
      'docproc-worker-validation',
    ]);
    for (const s of scaled) expect(s.spec.triggers.map((t: { metadata: { query: string } }) => t.metadata.query).join(' ')).toMatch(/prioritized/);
  });

  it('production pools name no replica count (an apply does not reset what the autoscaler chose), and run a release, not dev', () => {
    const appVersion = (parse(readFileSync(resolve(REPO, 'k8s', 'helm', 'docproc', 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;
    for (const overlay of ['production', 'production-keda', 'production-sentinel', 'production-redis-cluster', 'production-tenants']) {
      const deployments = objects(render(overlay)).filter((o) => o.kind === 'Deployment');
      const replicas = Object.fromEntries(deployments.map((d) => [d.metadata.name, d.spec.replicas]));
      expect({
        overlay,
        ocr: replicas['docproc-worker-ocr'],
        preprocessing: replicas['docproc-worker-preprocessing'],
        orchestrator: replicas['docproc-orchestrator'],
      }).toEqual({
        overlay,
        ocr: undefined,
        preprocessing: undefined,
        orchestrator: 2,
      });
      const images = deployments.map((d) => d.spec.template.spec.containers[0].image as string);
      expect(images.filter((image) => !image.endsWith(`:${appVersion}`))).toEqual([]);
    }
    expect(
      objects(render('dev')).find((o) => o.kind === 'Deployment' && o.metadata.name === 'docproc-worker-ocr').spec.template.spec.containers[0].image,
    ).toBe('docproc/worker-ocr:dev');
  });

  it('the ConfigMap is generated with a hash of its content, so a change rolls the pods that read it', () => {
    const production = objects(render('production'));
    const config = production.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('docproc-config-'));
    expect(config.data).toMatchObject({ DOCPROC_S3_BUCKET: 'docproc-production', DOCPROC_KEY_PREFIX: '{docproc}', DOCPROC_MAX_WORKERS: '48' });
    const ocr = production.find((o) => o.kind === 'Deployment' && o.metadata.name === 'docproc-worker-ocr');
    expect(ocr.spec.template.spec.containers[0].envFrom).toContainEqual({ configMapRef: { name: config.metadata.name } });
    const sentinel = objects(render('production-sentinel')).find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('docproc-config-'));
    expect(sentinel.metadata.name).not.toBe(config.metadata.name);
    expect(sentinel.data.DOCPROC_REDIS_MASTER).toBe('docproc');
  });

  it('KEDA counts one orchestrator, falls back when Prometheus has nothing, holds the wait as a Value target; the Ingress caps no whole request', () => {
    const keda = objects(render('production-keda'));
    const ocr = keda.find((o) => o.kind === 'ScaledObject' && o.metadata.name === 'docproc-worker-ocr');
    expect(ocr.spec.fallback).toEqual({ failureThreshold: 3, replicas: 4 });
    expect(ocr.spec.cooldownPeriod).toBeUndefined();
    expect(ocr.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(
      ocr.spec.triggers.map((t: { metricType?: string; metadata: Record<string, string> }) => [
        t.metricType ?? 'AverageValue',
        t.metadata.query,
        t.metadata.ignoreNullValues,
      ]),
    ).toEqual([
      ['AverageValue', 'sum(max by (state) (docproc_queue_tasks{namespace="docproc",queue="ocr",state=~"waiting|prioritized"}))', 'false'],
      ['Value', 'max(docproc_queue_oldest_waiting_age_seconds{namespace="docproc",queue="ocr"})', 'false'],
    ]);
    expect(keda.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
    const ingress = objects(render('production')).find((o) => o.kind === 'Ingress');
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('0');
  });
});
