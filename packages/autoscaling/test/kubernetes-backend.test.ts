import { KubeConfig } from '@kubernetes/client-node';
import type { WorkerInfo } from '@docproc/runtime';
import { FakeKubernetesApi } from '@docproc/testkit';
import { kubernetesBackend } from '../src/backends/kubernetes';
import { ScaleError } from '../src/backends/backend';

const DEPLOYMENTS = {
  preprocess: 'docproc-worker-preprocessing',
  ocr: 'docproc-worker-ocr',
  nlp: 'docproc-worker-nlp',
  validate: 'docproc-worker-validation',
};

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server, skipTLSVerify: true }],
    users: [{ name: 'autoscaler', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'autoscaler', namespace: 'docproc' }],
    currentContext: 'test',
  });
  return kc;
}

const worker = (host: string, active: number): WorkerInfo => ({
  id: host,
  step: 'ocr',
  pid: 1,
  host,
  concurrency: 1,
  startedAt: '',
  lastSeen: '',
  processed: 0,
  failed: 0,
  active,
  current: [],
  rssBytes: 0,
  cpuSeconds: 0,
});

describe('the Kubernetes backend against an API server on 127.0.0.1', () => {
  const api = new FakeKubernetesApi(Object.values(DEPLOYMENTS));
  let kubeConfig: KubeConfig;

  beforeAll(async () => {
    kubeConfig = kubeConfigFor(await api.start());
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.seen.length = 0;
    api.failWith = null;
    api.hang = false;
  });

  const backend = (timeoutMs = 2000) => kubernetesBackend({ deployments: DEPLOYMENTS, timeoutMs, kubeConfig });

  it("reads each pool's size from its Deployment's scale subresource, in the context's namespace", async () => {
    api.replicas['docproc-worker-ocr'] = 3;
    expect(await backend().workers()).toEqual({ preprocess: 1, ocr: 3, nlp: 1, validate: 1 });
    expect(api.seen.map((s) => `${s.method} ${s.path}`).sort()).toEqual(
      Object.values(DEPLOYMENTS)
        .map((name) => `GET /apis/apps/v1/namespaces/docproc/deployments/${name}/scale`)
        .sort(),
    );
    expect(api.seen.every((s) => s.authorization === 'Bearer test-token')).toBe(true);
  });

  it('sets a size with a JSON merge patch of spec.replicas, as kubectl scale does', async () => {
    await backend().scale('ocr', 4, []);
    expect(api.seen).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/docproc/deployments/docproc-worker-ocr/scale',
        contentType: 'application/merge-patch+json',
        authorization: 'Bearer test-token',
        body: { spec: { replicas: 4 } },
      },
    ]);
    expect(api.replicas['docproc-worker-ocr']).toBe(4);
  });

  it('before a scale-down, marks busy pods as costlier to remove so idle ones go first', async () => {
    await backend().scale('ocr', 1, [worker('ocr-pod-a', 1), worker('ocr-pod-b', 0)]);
    const pods = api.seen.filter((s) => s.path.includes('/pods/'));
    expect(pods.map((s) => [s.path, s.contentType, s.body]).sort()).toEqual([
      [
        '/api/v1/namespaces/docproc/pods/ocr-pod-a',
        'application/merge-patch+json',
        { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '1' } } },
      ],
      [
        '/api/v1/namespaces/docproc/pods/ocr-pod-b',
        'application/merge-patch+json',
        { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '0' } } },
      ],
    ]);
    expect(api.seen.at(-1)!.path).toMatch(/deployments\/docproc-worker-ocr\/scale$/); // the scale comes last
  });

  it.each([
    [403, /403 forbidden: the autoscaler's service account needs get and patch on deployments\/scale in namespace docproc/],
    [404, /404 no Deployment docproc-worker-ocr in namespace docproc \(DOCPROC_K8S_DEPLOYMENTS/],
    [409, /409 conflict: the Deployment docproc-worker-ocr changed meanwhile; the next look tries again/],
  ])('explains a %i from the API server', async (code, message) => {
    api.failWith = code;
    const error = await backend()
      .scale('ocr', 2, [])
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ScaleError);
    expect((error as Error).message).toMatch(message);
  });

  it('names a missing Deployment when reading sizes', async () => {
    const missing = kubernetesBackend({ deployments: { ...DEPLOYMENTS, nlp: 'no-such-deployment' }, timeoutMs: 2000, kubeConfig });
    await expect(missing.workers()).rejects.toThrow(
      /cannot read the scale of no-such-deployment: 404 no Deployment no-such-deployment in namespace docproc/,
    );
  });

  it('gives up on a hung API server after its time limit, with a message that says so', async () => {
    api.hang = true;
    const started = Date.now();
    await expect(backend(300).scale('ocr', 2, [])).rejects.toThrow(/cannot scale docproc-worker-ocr: no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
