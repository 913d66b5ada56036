import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { corpusExpected, corpusFile, freePort, missingWords, renderTextPng, waitFor } from '@docproc/testkit';
import { unpackHelm } from '../src/helm';

/**
 * The deployment, built and run here with podman: the images from docker/Dockerfile,
 * docker/compose.yaml under podman-compose, and the dev overlay's objects under
 * `podman kube play` (and the Helm chart's, with values like the dev overlay's). Figures (build and start times, sizes) go to tests/output/deploy.json.
 */
const run = promisify(execFile);
const REPO = resolve(__dirname, '..', '..');
const APPS = ['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation', 'autoscaler'] as const;
const TAG = 'dev';
const figures: Record<string, unknown> = {};

/** CONTAINERS_CONF from the shared script that sets podman up on these machines (it installs podman if needed). */
function containerEnvironment(): NodeJS.ProcessEnv {
  const script = resolve(REPO, '..', 'shared', 'tools', 'container-engine.sh');
  const line = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const conf = /^export CONTAINERS_CONF=(.+)$/.exec(line)?.[1];
  if (!conf) throw new Error(`container-engine.sh printed "${line}", not an export`);
  return { ...process.env, CONTAINERS_CONF: conf };
}
const env = containerEnvironment();

async function sh(command: string, args: string[], options: { timeoutMs?: number; extraEnv?: NodeJS.ProcessEnv } = {}) {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: REPO,
      env: { ...env, ...options.extraEnv },
      timeout: options.timeoutMs ?? 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr, ms: Date.now() - started };
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${(err as Error).message}\n${(stderr ?? '').slice(-3000)}\n${(stdout ?? '').slice(-2000)}`,
      {
        cause: err,
      },
    );
  }
}
const podman = (args: string[], timeoutMs?: number) => sh('podman', args, { timeoutMs });

interface Api {
  base: string;
  key: string;
}

async function submit(api: Api, names: string[]): Promise<string> {
  const form = new FormData();
  for (const name of names) form.append('files', new Blob([readFileSync(corpusFile(name))]), name);
  const res = await fetch(`${api.base}/v1/jobs`, { method: 'POST', body: form, headers: { authorization: `Bearer ${api.key}` } });
  if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

interface ResultDocument {
  documentId: string;
  name: string;
  status: string;
  error: { code: string } | null;
  steps: { ocr: { text: string } | null };
}

async function finished(api: Api, id: string, timeoutMs: number): Promise<ResultDocument[]> {
  const auth = { headers: { authorization: `Bearer ${api.key}` } };
  await waitFor(
    async () => ((await (await fetch(`${api.base}/v1/jobs/${id}`, auth)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
    timeoutMs,
    `job ${id}`,
  );
  return ((await (await fetch(`${api.base}/v1/jobs/${id}/results`, auth)).json()) as { documents: ResultDocument[] }).documents;
}

function expectWords(documents: ResultDocument[]) {
  const expected = corpusExpected();
  for (const doc of documents) {
    const words = expected[doc.name]?.words;
    if (!words) continue;
    expect({ name: doc.name, status: doc.status, missing: missingWords(doc.steps.ocr?.text ?? '', words) }).toEqual({
      name: doc.name,
      status: 'completed',
      missing: [],
    });
  }
}

async function untilReady(base: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(async () => ((await fetch(`${base}/readyz`).catch(() => null))?.ok ? true : undefined), timeoutMs, `${base}/readyz`);
  return Date.now() - started;
}

afterAll(() => {
  mkdirSync(join(REPO, 'tests', 'output'), { recursive: true });
  writeFileSync(join(REPO, 'tests', 'output', 'deploy.json'), JSON.stringify(figures, null, 2));
});

describe('the images', () => {
  it('build from docker/Dockerfile, run as a non-root user under tini with a HEALTHCHECK, OCR with native Tesseract', async () => {
    const secret = process.env.NODE_EXTRA_CA_CERTS ? ['--secret', `id=extra-ca,src=${process.env.NODE_EXTRA_CA_CERTS}`] : [];
    const built: Record<string, { seconds: number; megabytes: number }> = {};
    for (const app of APPS) {
      const { ms } = await podman(
        [
          'build',
          '--format',
          'docker',
          '--network',
          'host',
          ...secret,
          '-f',
          'docker/Dockerfile',
          '--target',
          app,
          '-t',
          `docproc/${app}:${TAG}`,
          '.',
        ],
        1_200_000,
      );
      const inspect = JSON.parse((await podman(['image', 'inspect', `docproc/${app}:${TAG}`])).stdout)[0];
      built[app] = { seconds: Math.round(ms / 100) / 10, megabytes: Math.round(inspect.Size / 1e6) };
      expect({
        app,
        user: inspect.Config.User,
        entrypoint: inspect.Config.Entrypoint,
        healthcheck: JSON.stringify((inspect.Healthcheck ?? inspect.Config.Healthcheck)?.Test ?? null).includes('/healthz'),
      }).toEqual({
        app,
        user: 'docproc',
        entrypoint: ['/usr/bin/tini', '--'],
        healthcheck: true,
      });
    }
    const { ms } = await podman([
      'build',
      '--format',
      'docker',
      '--network',
      'host',
      '-f',
      'docker/redis.Dockerfile',
      '-t',
      `docproc/redis:${TAG}`,
      'docker',
    ]);
    built.redis = {
      seconds: Math.round(ms / 100) / 10,
      megabytes: Math.round(JSON.parse((await podman(['image', 'inspect', `docproc/redis:${TAG}`])).stdout)[0].Size / 1e6),
    };
    const prometheus = await podman([
      'build',
      '--format',
      'docker',
      '--network',
      'host',
      '-f',
      'docker/prometheus.Dockerfile',
      '-t',
      `docproc/prometheus:${TAG}`,
      'docker',
    ]);
    built.prometheus = {
      seconds: Math.round(prometheus.ms / 100) / 10,
      megabytes: Math.round(JSON.parse((await podman(['image', 'inspect', `docproc/prometheus:${TAG}`])).stdout)[0].Size / 1e6),
    };
    figures.images = built;

    const ocr = await podman(['run', '--rm', '--entrypoint', 'tesseract', `docproc/worker-ocr:${TAG}`, '--version']);
    expect(ocr.stdout + ocr.stderr).toMatch(/tesseract 5\./);
    // The native engine as the OCR pool runs it: a read-only root, no capabilities, /tmp its only scratch.
    const page = join(mkdtempSync(join(tmpdir(), 'docproc-native-')), 'page.png');
    writeFileSync(page, await renderTextPng(['Native engine reads the harbour survey']));
    const read = `const { NativeTesseractEngine } = require('./dist/native-engine.js'); const { toPgm } = require('@docproc/media');
      toPgm(require('fs').readFileSync('/page.png')).then((pgm) => new NativeTesseractEngine().recognize(pgm, { languages: ['eng'], timeoutMs: 60000 }))
        .then((r) => process.stdout.write(r.text), (e) => { console.error(e); process.exit(1); });`;
    const native = await podman([
      'run',
      '--rm',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--cap-drop',
      'ALL',
      '-v',
      `${page}:/page.png:ro`,
      '--entrypoint',
      'node',
      `docproc/worker-ocr:${TAG}`,
      '-e',
      read,
    ]);
    expect(missingWords(native.stdout, ['Native', 'engine', 'harbour', 'survey'])).toEqual([]);
    const id = await podman(['run', '--rm', '--entrypoint', 'id', `docproc/orchestrator:${TAG}`]);
    expect(id.stdout).toMatch(/^uid=10001\(docproc\)/);
  }, 1_800_000);
});

describe('docker/compose.yaml under podman-compose', () => {
  const project = `docproc-test-${process.pid}`;
  const compose = (args: string[], timeoutMs?: number) =>
    sh('podman-compose', ['-p', project, '-f', 'docker/compose.yaml', ...args], { timeoutMs, extraEnv: composeEnv });
  let composeEnv: NodeJS.ProcessEnv;
  let api: Api;
  let prometheusPort = 0;

  beforeAll(async () => {
    const port = await freePort();
    prometheusPort = await freePort();
    const envFile = join(mkdtempSync(join(tmpdir(), 'docproc-compose-')), 'docproc.env');
    writeFileSync(envFile, 'DOCPROC_API_KEYS=compose-test-key\nDOCPROC_METRICS_KEY=compose-test-key\nLOG_LEVEL=info\n');
    composeEnv = { DOCPROC_PORT: String(port), DOCPROC_PROMETHEUS_PORT: String(prometheusPort), DOCPROC_ENV_FILE: envFile, DOCPROC_TAG: TAG };
    api = { base: `http://127.0.0.1:${port}`, key: 'compose-test-key' };
  });
  afterAll(async () => {
    await compose(['down', '-v', '-t', '5']).catch(() => undefined);
  }, 120_000);

  it('reads a corpus PDF and image; down drains the workers with SIGTERM, and the batch finishes after up with no task lost', async () => {
    const up = await compose(['up', '-d'], 300_000);
    const readyMs = up.ms + (await untilReady(api.base, 120_000));
    figures.compose = { upToReadySeconds: Math.round(readyMs / 100) / 10 };

    expect((await fetch(`${api.base}/v1/jobs`)).status).toBe(401);
    const first = await finished(api, await submit(api, ['baiona.png', '3small.pdf', 'invalid.pdf']), 240_000);
    // The monitoring profile's Prometheus (podman-compose 1.0 starts every profile): it scrapes
    // the orchestrator with the metrics key, and its rules record the batch's pages.
    const prometheus = `http://127.0.0.1:${prometheusPort}`;
    await waitFor(
      async () => {
        const body = (await (await fetch(`${prometheus}/api/v1/query?query=docproc_redis_up`).catch(() => null))?.json().catch(() => null)) as {
          data?: { result: { value: [number, string] }[] };
        } | null;
        return body?.data?.result[0]?.value[1] === '1' ? true : undefined;
      },
      120_000,
      "compose's Prometheus scraping the orchestrator",
    );
    const rules = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as { data: { groups: { rules: { health: string }[] }[] } };
    expect(rules.data.groups.flatMap((g) => g.rules).length).toBeGreaterThan(20);
    expectWords(first);
    expect(first.find((doc) => doc.name === 'invalid.pdf')?.error?.code).toBeTruthy();

    // A batch in flight when the whole platform goes down.
    const id = await submit(api, ['multipage.pdf', 'c02-22.pdf', 'typewriter.png', 'crom.png', 'skew.pdf']);
    const auth = { headers: { authorization: `Bearer ${api.key}` } };
    await waitFor(
      async () => (((await (await fetch(`${api.base}/v1/jobs/${id}`, auth)).json()) as { status: string }).status === 'running' ? true : undefined),
      60_000,
      'the batch running',
    );
    const down = await compose(['down', '-t', '300'], 600_000);
    figures.compose = { ...(figures.compose as object), downSeconds: Math.round(down.ms / 100) / 10 };
    const ours = await podman(['ps', '-a', '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Names}}']);
    expect(ours.stdout.trim()).toBe('');

    await compose(['up', '-d'], 300_000);
    await untilReady(api.base, 120_000);
    const second = await finished(api, id, 300_000);
    expect(second.map((doc) => doc.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    expectWords(second);
    // Drained, not killed: no attempt of any task failed or was lost with a stopped worker.
    for (const doc of second) {
      const whole = (await (await fetch(`${api.base}/v1/jobs/${id}/documents/${doc.documentId}`, auth)).json()) as { failedAttempts: unknown[] };
      expect({ name: doc.name, failedAttempts: whole.failedAttempts }).toEqual({ name: doc.name, failedAttempts: [] });
    }
    // The image's HEALTHCHECK, as the engine runs it, on a worker (heartbeat) and the API.
    const names = (await podman(['ps', '--filter', `label=io.podman.compose.project=${project}`, '--format', '{{.Names}}'])).stdout
      .trim()
      .split('\n');
    for (const name of [names.find((n) => n.includes('worker-ocr'))!, names.find((n) => n.includes('orchestrator'))!]) {
      await waitFor(async () => ((await podman(['healthcheck', 'run', name]).catch(() => null)) ? true : undefined), 60_000, `${name} healthy`);
    }
  }, 1_500_000);
});

/**
 * What of the rendered dev overlay podman 4.3 can run, made runnable there; every change is
 * a limit of `podman kube play`, not of the manifests (the README lists what is left out):
 * - Services, RBAC, PodDisruptionBudgets and the autoscaler (it needs an API server) go;
 *   pods reach each other by pod name, so the Secret's REDIS_URL names Redis's pod, not its Service;
 * - podman 4.3 publishes every containerPort on the host (the host's Redis holds 6379, and
 *   four workers cannot all have 8081): ports go, and with them the probes that name them
 *   (podman runs no probes without systemd anyway; the test asks the endpoints itself);
 * - the Secret becomes a podman secret in the form 4.3 reads (a JSON map of base64 values).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, edited by path
function forKubePlay(rendered: string): { objects: any[]; secret: { name: string; data: Record<string, string> } } {
  const all = parseAllDocuments(rendered).map((d) => d.toJS());
  const secret = all.find((o) => o.kind === 'Secret');
  const data = { ...secret.data, REDIS_URL: Buffer.from('redis://docproc-redis-pod-0:6379').toString('base64') };
  const objects = all.filter(
    (o) => ['ConfigMap', 'PersistentVolumeClaim', 'Deployment'].includes(o.kind) && o.metadata.name !== 'docproc-autoscaler',
  );
  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    for (const container of deployment.spec.template.spec.containers) {
      delete container.ports;
      delete container.livenessProbe;
      delete container.readinessProbe;
    }
  }
  return { objects, secret: { name: secret.metadata.name, data } };
}

/** The chart with values like the dev overlay's: the dev images, one of each, blobs on a shared claim, Redis from the dev overlay. */
function chartForDev(): string {
  const values = join(mkdtempSync(join(tmpdir(), 'docproc-chart-dev-')), 'values.yaml');
  const pool = (name: string) => ({ [name]: { replicas: 1 } });
  writeFileSync(
    values,
    stringify({
      image: { tag: TAG },
      blobStore: { type: 'local', localClaim: 'docproc-data' },
      autoscaling: { mode: 'none' },
      orchestrator: { replicas: 1 },
      pools: { ...pool('preprocess'), ...pool('ocr'), ...pool('nlp'), ...pool('validate') },
    }),
  );
  const chart = execFileSync(unpackHelm(), ['template', 'docproc', resolve(REPO, 'k8s', 'helm', 'docproc'), '-f', values], { encoding: 'utf8' });
  const secret = stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'docproc-secrets' },
    data: { DOCPROC_API_KEYS: Buffer.from('dev-key').toString('base64'), REDIS_URL: Buffer.from('redis://docproc-redis:6379').toString('base64') },
  });
  const devOnly = ['redis.yaml', 'data-volume.yaml'].map((f) => readFileSync(resolve(REPO, 'k8s', 'overlays', 'dev', f), 'utf8'));
  return [chart, ...devOnly, secret].join('\n---\n');
}

describe('podman kube play', () => {
  const network = `docproc-kube-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'docproc-kube-'));
  const file = join(dir, 'kube.yaml');
  let secretName = '';
  const ipOf = async (container: string) =>
    (await podman(['inspect', container, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`])).stdout.trim();
  let pods: string[] = [];
  const down = async () => {
    await podman(['kube', 'down', file]).catch(() => undefined);
    // A play that failed half-way leaves pods kube down does not know
    for (const pod of pods) await podman(['pod', 'rm', '-f', pod]).catch(() => undefined);
    await podman(['volume', 'rm', '-f', 'docproc-data', 'docproc-redis-data']).catch(() => undefined);
    if (secretName) await podman(['secret', 'rm', secretName]).catch(() => undefined);
  };

  beforeAll(async () => {
    await podman(['network', 'rm', network]).catch(() => undefined);
    await podman(['network', 'create', network]);
  });
  afterAll(async () => {
    await down();
    await podman(['network', 'rm', network]).catch(() => undefined);
  }, 120_000);

  it.each([
    ['k8s/overlays/dev', async () => (await sh('kubectl', ['kustomize', 'k8s/overlays/dev'])).stdout, 'kubePlay'],
    ['the Helm chart with dev-like values', async () => chartForDev(), 'kubePlayChart'],
  ])(
    'runs %s: its Deployments, ConfigMap and Secret (Redis included); a document submitted to that orchestrator completes',
    async (_, rendered, figure) => {
      const { objects, secret } = forKubePlay(await rendered());
      // What a run that was cut short (or the play before) may have left: the names are the manifests' own.
      pods = objects.filter((o) => o.kind === 'Deployment').map((o) => `${o.metadata.name}-pod-0`);
      await down();
      writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
      writeFileSync(join(dir, 'secret.json'), JSON.stringify(secret.data));
      secretName = secret.name;
      await podman(['secret', 'create', secret.name, join(dir, 'secret.json')]);
      const play = await podman(['kube', 'play', '--network', network, file], 300_000);
      expect(play.stdout + play.stderr).not.toMatch(/Error:/);

      const base = `http://${await ipOf('docproc-orchestrator-pod-0-orchestrator')}:3000`;
      const readyMs = play.ms + (await untilReady(base, 120_000));
      figures[figure] = { playToReadySeconds: Math.round(readyMs / 100) / 10 };
      // The workers' probe endpoints, as the kubelet would ask them.
      for (const pool of ['preprocessing', 'ocr', 'nlp', 'validation']) {
        const worker = `http://${await ipOf(`docproc-worker-${pool}-pod-0-worker`)}:8081`;
        await waitFor(async () => ((await fetch(`${worker}/readyz`).catch(() => null))?.ok ? true : undefined), 60_000, `${pool} ready`);
        expect(await (await fetch(`${worker}/healthz`)).json()).toEqual({ status: 'ok' });
      }

      const api = { base, key: 'dev-key' };
      const documents = await finished(api, await submit(api, ['crom.png', '3small.pdf']), 180_000);
      expect(documents.map((doc) => doc.status)).toEqual(['completed', 'completed']);
      expectWords(documents);
      await down();
    },
    900_000,
  );
});
