import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { unpackHelm } from '../src/helm';

const REPO = resolve(__dirname, '..', '..');
const CHART = resolve(REPO, 'k8s', 'helm', 'docproc');
const VALIDATE = resolve(REPO, 'tests', 'src', 'validate-k8s.mjs');

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

  /** Every option on at once: what a production install with its own cluster's needs sets. */
  const everything = {
    autoscaling: { mode: 'keda' },
    monitoring: {
      serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
      prometheusRule: { enabled: true },
      grafanaDashboard: { enabled: true },
      scrapeAnnotations: true,
    },
    networkPolicy: { enabled: true, apiFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] },
    ingress: { enabled: true, tlsSecret: 'docproc-tls' },
    imagePullSecrets: [{ name: 'regcred' }],
    serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/docproc' } },
    nodeSelector: { 'node-pool': 'general' },
    topologySpread: [{ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' }],
    apiKeys: { secret: 'docproc-api-keys', fileKey: 'api-keys.json' },
  };

  it.each([
    ['the defaults', {}],
    ['Sentinel', { redis: { sentinels: ['redis-sentinel-0.redis-sentinel:26379', 'redis-sentinel-1.redis-sentinel:26379'], master: 'docproc' } }],
    ['Redis Cluster', { redis: { clusterNodes: ['redis-cluster-0.redis-cluster:6379', 'redis-cluster-1.redis-cluster:6379'] } }],
    ['KEDA', { autoscaling: { mode: 'keda' } }],
    ['no autoscaler', { autoscaling: { mode: 'none' } }],
    ['a local blob store', { blobStore: { type: 'local', localClaim: 'docproc-data' } }],
    ['everything on', everything],
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

  it('names each image by the chart appVersion unless image.tag says otherwise', () => {
    const appVersion = (parse(readFileSync(resolve(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;
    const images = (yaml: string) =>
      objects(yaml)
        .filter((o) => o.kind === 'Deployment')
        .map((d) => d.spec.template.spec.containers[0].image as string);
    expect(images(template().stdout).every((image) => image.endsWith(`:${appVersion}`))).toBe(true);
    expect(images(template({ image: { repository: 'registry.example.com/docproc', tag: '1.2.3' } }).stdout)).toContain(
      'registry.example.com/docproc/worker-ocr:1.2.3',
    );
  });

  it('names no replica count on a pool an autoscaler sizes, so an upgrade does not reset it', () => {
    const replicas = (yaml: string) =>
      Object.fromEntries(
        objects(yaml)
          .filter((o) => o.kind === 'Deployment')
          .map((d) => [d.metadata.name, d.spec.replicas]),
      );
    for (const mode of ['docproc', 'keda']) {
      expect(replicas(template({ autoscaling: { mode } }).stdout)).toMatchObject({
        'docproc-orchestrator': 2,
        'docproc-worker-ocr': undefined,
        'docproc-worker-preprocessing': undefined,
        'docproc-worker-nlp': undefined,
        'docproc-worker-validation': undefined,
      });
    }
    expect(replicas(template({ autoscaling: { mode: 'none' } }).stdout)).toMatchObject({ 'docproc-worker-ocr': 2, 'docproc-worker-nlp': 1 });
  });

  it('rolls the pods when the config changes (a checksum of the ConfigMap on each pod template)', () => {
    const checksums = (yaml: string) =>
      objects(yaml)
        .filter((o) => o.kind === 'Deployment')
        .map((d) => d.spec.template.metadata.annotations['checksum/config'] as string);
    const before = checksums(template().stdout);
    const after = checksums(template({ config: { LOG_LEVEL: 'debug' } }).stdout);
    expect(new Set(before).size).toBe(1);
    expect(before[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(after[0]).not.toBe(before[0]);
  });

  it('raises a pool grace period past a longer step timeout set in config', () => {
    const grace = (values: object) =>
      Object.fromEntries(
        objects(template(values).stdout)
          .filter((o) => o.kind === 'Deployment' && o.metadata.labels['docproc.dev/step'])
          .map((d) => [d.metadata.labels['docproc.dev/step'], d.spec.template.spec.terminationGracePeriodSeconds]),
      );
    expect(grace({})).toEqual({ preprocess: 1860, ocr: 330, nlp: 150, validate: 90 });
    expect(grace({ config: { DOCPROC_STEP_TIMEOUT_MS: 'preprocess=3600000,ocr=600000' } })).toEqual({
      preprocess: 3660,
      ocr: 660,
      nlp: 150,
      validate: 90,
    });
    expect(grace({ config: { DOCPROC_STEP_TIMEOUT_MS: 900000 } })).toEqual({ preprocess: 1860, ocr: 960, nlp: 960, validate: 960 });
    expect(configOf(template({ config: { DOCPROC_STEP_TIMEOUT_MS: 900000 } }).stdout).DOCPROC_STEP_TIMEOUT_MS).toBe('900000');
  });

  it('puts every pod where the values say, under the account that carries its cloud identity', () => {
    const rendered = objects(
      template({ ...everything, pools: { ocr: { nodeSelector: { 'node-pool': 'compute' }, tolerations: [{ key: 'compute', operator: 'Exists' }] } } })
        .stdout,
    );
    const pods = Object.fromEntries(rendered.filter((o) => o.kind === 'Deployment').map((d) => [d.metadata.name, d.spec.template.spec]));
    expect(pods['docproc-worker-ocr'].nodeSelector).toEqual({ 'node-pool': 'compute' });
    expect(pods['docproc-worker-ocr'].tolerations).toEqual([{ key: 'compute', operator: 'Exists' }]);
    expect(pods['docproc-worker-nlp'].nodeSelector).toEqual({ 'node-pool': 'general' });
    expect(pods['docproc-orchestrator'].imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pods['docproc-orchestrator'].topologySpreadConstraints).toEqual([
      {
        topologyKey: 'topology.kubernetes.io/zone',
        maxSkew: 1,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'docproc-orchestrator' } },
      },
    ]);
    expect(pods['docproc-orchestrator'].serviceAccountName).toBe('docproc-docproc');
    const account = rendered.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'docproc-docproc');
    expect(account.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/docproc' });
    // KEDA sizes the pools: docproc's autoscaler, its account and its role are not installed
    expect(rendered.filter((o) => o.metadata?.name === 'docproc-autoscaler')).toEqual([]);
  });

  it('KEDA: one orchestrator counted, a fallback when the queries return nothing, the wait as a Value target, the HPA behavior', () => {
    const scaled = objects(template({ autoscaling: { mode: 'keda' } }).stdout).find(
      (o) => o.kind === 'ScaledObject' && o.metadata.name === 'docproc-worker-ocr',
    );
    expect(scaled.spec.fallback).toEqual({ failureThreshold: 3, replicas: 2 });
    expect(scaled.spec.cooldownPeriod).toBeUndefined();
    expect(scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    const [backlog, wait] = scaled.spec.triggers;
    expect(backlog.metricType).toBeUndefined();
    expect(backlog.metadata).toMatchObject({
      query: 'sum(max by (state) (docproc_queue_tasks{namespace="docproc",queue="ocr",state=~"waiting|prioritized"}))',
      threshold: '4',
      ignoreNullValues: 'false',
    });
    expect(wait.metricType).toBe('Value');
    expect(wait.metadata).toMatchObject({ query: 'max(docproc_queue_oldest_waiting_age_seconds{namespace="docproc",queue="ocr"})', threshold: '30' });
    // a pool that may scale to zero keeps KEDA's cooldown
    const toZero = objects(template({ autoscaling: { mode: 'keda' }, pools: { nlp: { min: 0 } } }).stdout).find(
      (o) => o.kind === 'ScaledObject' && o.metadata.name === 'docproc-worker-nlp',
    );
    expect(toZero.spec.cooldownPeriod).toBe(300);
  });

  it('monitoring: the ServiceMonitor scrapes with the metrics key, the PrometheusRule and the dashboard are k8s/monitoring', () => {
    const rendered = objects(template(everything).stdout);
    const monitor = rendered.find((o) => o.kind === 'ServiceMonitor');
    expect(monitor.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(monitor.spec.endpoints[0]).toMatchObject({
      port: 'http',
      path: '/metrics',
      authorization: { type: 'Bearer', credentials: { name: 'docproc-metrics', key: 'token' } },
    });
    const rules = parse(readFileSync(resolve(REPO, 'k8s', 'monitoring', 'docproc.rules.yaml'), 'utf8')) as { groups: unknown };
    expect(rendered.find((o) => o.kind === 'PrometheusRule').spec.groups).toEqual(rules.groups);
    const dashboard = rendered.find((o) => o.kind === 'ConfigMap' && o.metadata.labels.grafana_dashboard === '1');
    expect(JSON.parse(dashboard.data['docproc.json'])).toEqual(
      JSON.parse(readFileSync(resolve(REPO, 'k8s', 'monitoring', 'grafana-dashboard.json'), 'utf8')),
    );
    const orchestrator = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === 'docproc-orchestrator');
    expect(orchestrator.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    const ingress = rendered.find((o) => o.kind === 'Ingress');
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('0');
    expect(rendered.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name)).toEqual(['docproc-orchestrator', 'docproc-workers']);
  });

  it.each([
    ['a pool whose min is above its max', { pools: { ocr: { min: 20, max: 16 } } }, /pools\.ocr: min \(20\) is above max \(16\)/],
    [
      'a KEDA threshold set to null',
      { autoscaling: { mode: 'keda' }, pools: { ocr: { backlogPerWorker: null } } },
      /pools\.ocr: backlogPerWorker is required/,
    ],
    [
      'a config key the chart sets from a value',
      { config: { DOCPROC_POOL_MAX: '4' } },
      /config\.DOCPROC_POOL_MAX: the chart sets it from pools\.<step>\.max/,
    ],
    ['KEDA without a Prometheus address', { autoscaling: { mode: 'keda', keda: { prometheusAddress: '' } } }, /autoscaling\.keda\.prometheusAddress/],
    ['an unknown value', { replicas: 3 }, /Additional property replicas is not allowed/],
    ['a pool without a memory limit', { pools: { nlp: { resources: { limits: { memory: null } } } } }, /memory is required/],
  ])('refuses %s, saying which value', (_, values, message) => {
    const rendered = template(values);
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toMatch(message);
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
