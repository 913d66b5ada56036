import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform, type PlatformApp } from '@docproc/supervisor';
import { loadConfig } from '@docproc/config';
import { type RedisClient, createLogger, createRedis, exitWitness, redisTarget } from '@docproc/runtime';
import { readEvents, recordKeys } from '@docproc/batches';
import { freePort, orchestratorReady } from './fixtures';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from './redis';
import { renderTextPng } from './render';

export interface BatchStatusBody {
  id: string;
  status: string;
  progress: { total: number; completed: number; failed: number; cancelled: number; percent: number };
  startedAt: string | null;
  finishedAt: string | null;
}

export interface DocumentBody {
  documentId: string;
  name: string;
  status: string;
  error: { code: string; message: string } | null;
  steps: Record<string, Record<string, unknown> | null>;
}

/**
 * The platform as `docproc up` runs it — each app its own node process from
 * dist/ — on a Redis key prefix and data directory of its own, with helpers
 * to drive it over HTTP. Groups of apps can be started and stopped apart (a
 * worker pool started late, to build a backlog first).
 */
export class PlatformUnderTest {
  readonly prefix = testPrefix('sys');
  readonly dataDir = mkdtempSync(join(tmpdir(), 'docproc-sys-'));
  readonly logs: string[] = [];
  readonly exits: string[] = [];
  readonly redis: RedisClient;
  base = '';
  private port = 0;
  private readonly groups: Platform[] = [];
  private readonly witnesses: ReturnType<typeof exitWitness>[] = [];

  constructor(
    private readonly env: Record<string, string> = {},
    readonly redisUrl = TEST_REDIS_URL,
  ) {
    // As the apps connect: through the sentinels, or to the cluster, when the env names them.
    this.redis = createRedis(redisTarget(loadConfig({ ...env, REDIS_URL: redisUrl })), 'worker');
  }

  /** Starts apps (the orchestrator among them: waits until it is ready). */
  async start(
    apps: readonly PlatformApp[],
    options: { env?: Record<string, string>; instances?: Partial<Record<PlatformApp, number>> } = {},
  ): Promise<Platform> {
    if (this.port === 0) {
      this.port = await freePort();
      this.base = `http://127.0.0.1:${this.port}`;
    }
    const env = {
      ...process.env,
      PORT: String(this.port),
      REDIS_URL: this.redisUrl,
      DOCPROC_KEY_PREFIX: this.prefix,
      DOCPROC_DATA_DIR: this.dataDir,
      DOCPROC_HEARTBEAT_MS: '500',
      LOG_LEVEL: 'warn',
      ...this.env,
      ...options.env,
    };
    // As `docproc up` does: a worker seen to exit has its tasks released at once.
    const witness = exitWitness(
      loadConfig(env),
      createLogger('test-launcher', 'warn', 'json', (line) => this.logs.push(`launcher | ${line}`)),
    );
    this.witnesses.push(witness);
    const group = startPlatform({
      env,
      apps,
      instances: options.instances,
      onLine: (app, line, name) => this.logs.push(`${name} | ${line}`),
      onExit: (app, code, signal, name) => this.exits.push(`${name} exited with ${signal ?? code}`),
      onProcessExit: (app, pid, code, signal) => void (app !== 'orchestrator' && witness.exited(pid, code, signal)),
    });
    this.groups.push(group);
    await group.ready;
    if (apps.includes('orchestrator')) {
      await orchestratorReady(this.base);
    }
    return group;
  }

  /** The first of DOCPROC_API_KEYS, when the platform was given keys. */
  get apiKey(): string | undefined {
    return this.env.DOCPROC_API_KEYS?.split(',')[0];
  }

  auth(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  /** Waits until `count` workers of `step` beat. */
  async workersUp(step: string, count: number): Promise<void> {
    await waitFor(
      async () => {
        const workers = Object.values(await this.redis.hgetall(`${this.prefix}:workers`)).filter((w) => JSON.parse(w).step === step);
        return workers.length >= count ? true : undefined;
      },
      60_000,
      `${count} ${step} worker(s)`,
    );
  }

  async submit(files: { name: string; bytes: Buffer }[], fields: Record<string, string> = {}): Promise<string> {
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([file.bytes]), file.name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    const res = await fetch(`${this.base}/v1/jobs`, { method: 'POST', body: form, headers: this.auth() });
    if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}${path}`, { headers: this.auth() });
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  async post(path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.base}${path}`, { method: 'POST', headers: this.auth() });
    return { status: res.status, body: await res.json() };
  }

  status(id: string): Promise<BatchStatusBody> {
    return this.get(`/v1/jobs/${id}`);
  }

  async finished(id: string, timeoutMs: number): Promise<BatchStatusBody> {
    return waitFor(
      async () => {
        const status = await this.status(id).catch(() => undefined);
        return status?.finishedAt ? status : undefined;
      },
      timeoutMs,
      `job ${id} to finish`,
    );
  }

  async documents(id: string): Promise<DocumentBody[]> {
    return (await this.get<{ documents: DocumentBody[] }>(`/v1/jobs/${id}/results?limit=1000`)).documents;
  }

  /** Stops every app started, then removes the test's keys. */
  async stop(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.stop()));
    await Promise.all(this.witnesses.map((w) => w.close()));
    await deletePrefix(this.redis, this.prefix).catch(() => undefined);
    this.redis.disconnect();
  }
}

/** Scanned-looking pages; `lines` sets how long OCR takes over each (a dozen lines: about a second). */
export async function scanPages(count: number, lines = 3): Promise<{ name: string; bytes: Buffer }[]> {
  const out: { name: string; bytes: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const text = [
      `Page ${i} of the recovery test`,
      ...Array.from({ length: lines - 1 }, (_, l) => `Harbour authority quarterly figures, line ${l}, reference ${1000 + i}`),
    ];
    out.push({ name: `page-${String(i).padStart(2, '0')}.png`, bytes: await renderTextPng(text, { width: 1600 }) });
  }
  return out;
}

/** Each document's `document` events by status: every document must end exactly once. */
export async function documentEnds(platform: PlatformUnderTest, id: string): Promise<Map<string, string[]>> {
  const ends = new Map<string, string[]>();
  for (const event of await readEvents(platform.redis, recordKeys(platform.prefix).events(id), '0', 100_000)) {
    if (event.type !== 'document' || event.data.status === 'queued') continue;
    const doc = String(event.data.document);
    ends.set(doc, [...(ends.get(doc) ?? []), String(event.data.status)]);
  }
  return ends;
}
