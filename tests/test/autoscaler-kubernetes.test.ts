import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueName } from '@docproc/catalog';
import { readScaling } from '@docproc/pools';
import { FakeKubernetesApi, TEST_REDIS_URL, deletePrefix, kubeconfigYaml, testPrefix, waitFor } from '@docproc/testkit';

const AUTOSCALER = resolve(__dirname, '..', '..', 'apps', 'autoscaler', 'dist', 'main.js');
const OCR_DEPLOYMENT = 'docproc-worker-ocr';

/**
 * The autoscaler app as it runs in a cluster — its own process, the Kubernetes backend,
 * real Redis — against an API server of the test's own on 127.0.0.1.
 */
describe('the autoscaler app with the Kubernetes backend', () => {
  const api = new FakeKubernetesApi(['docproc-worker-preprocessing', OCR_DEPLOYMENT, 'docproc-worker-nlp', 'docproc-worker-validation']);
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('autoscaler-k8s');
  let queue: Queue;
  let app: ChildProcess;
  let output = '';

  beforeAll(async () => {
    const server = await api.start();
    const dir = mkdtempSync(join(tmpdir(), 'docproc-kubeconfig-'));
    writeFileSync(join(dir, 'config'), kubeconfigYaml(server));
    queue = new Queue(queueName('ocr'), { connection: redis, prefix });
    app = spawn(process.execPath, [AUTOSCALER], {
      env: {
        ...process.env,
        KUBECONFIG: join(dir, 'config'),
        REDIS_URL: TEST_REDIS_URL,
        DOCPROC_KEY_PREFIX: prefix,
        DOCPROC_AUTOSCALE_BACKEND: 'kubernetes',
        DOCPROC_AUTOSCALE_INTERVAL: '0.5',
        DOCPROC_AUTOSCALE_DOWN_STABILIZATION: '1',
        DOCPROC_AUTOSCALE_COOLDOWN: '0',
        DOCPROC_POOL_MAX: 'ocr=5',
        DOCPROC_K8S_TIMEOUT_MS: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [app.stdout!, app.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });

  afterAll(async () => {
    app.kill('SIGKILL');
    await queue.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await api.stop();
  });

  it('sizes the OCR Deployment from its queue, back down when it empties, and reports what the API server refuses', async () => {
    await queue.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'page', data: { i } })));
    await waitFor(async () => (api.replicas[OCR_DEPLOYMENT] === 5 ? true : undefined), 20_000, 'the OCR Deployment scaled to 5');
    const patch = api.seen.find((s) => s.method === 'PATCH' && s.path.endsWith(`/deployments/${OCR_DEPLOYMENT}/scale`))!;
    expect(patch).toMatchObject({ contentType: 'application/merge-patch+json', body: { spec: { replicas: 5 } }, authorization: 'Bearer test-token' });
    expect(patch.path).toBe(`/apis/apps/v1/namespaces/docproc/deployments/${OCR_DEPLOYMENT}/scale`);
    // the look's record is written after its patches: wait for it rather than race it
    const latest = await waitFor(async () => (await readScaling(redis, prefix, null)).latest ?? undefined, 10_000, 'the scaling record');
    expect(latest.backend).toBe('kubernetes');
    expect(latest.decisions.find((d) => d.pool === 'ocr')).toMatchObject({ desired: 5, kind: 'up' });

    await queue.obliterate({ force: true });
    await waitFor(async () => (api.replicas[OCR_DEPLOYMENT] === 1 ? true : undefined), 20_000, 'the OCR Deployment back at 1');

    api.failWith = 403;
    await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'page', data: { i } })));
    const refused = await waitFor(
      async () => (await readScaling(redis, prefix, null)).latest?.pools.ocr?.error,
      20_000,
      'the refusal in the autoscaler record',
    );
    expect(refused).toMatch(/cannot scale docproc-worker-ocr: 403 forbidden: .* get and patch on deployments\/scale in namespace docproc/);
    expect(output).toMatch(/cannot scale the pool/);
    expect(api.replicas[OCR_DEPLOYMENT]).toBe(1);

    app.kill('SIGTERM');
    expect(await new Promise((done) => app.once('exit', done))).toBe(0);
  });
});
