import { hostname } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { RedisClient } from '@docproc/batches';
import { connectionRecipe } from './redis';

export interface WorkerInfo {
  id: string;
  step: string;
  pid: number;
  host: string;
  concurrency: number;
  startedAt: string;
  lastSeen: string;
  processed: number;
  failed: number;
  active: number;
  /** The ids of the tasks it runs now. */
  current: string[];
  /** BullMQ's id of its Worker: the tokens of the task locks it holds start with it. */
  bullWorkerId?: string;
  /** The longest the event loop waited to run a callback since the beat before (seconds): a blocked loop cannot renew locks. */
  eventLoopLagSeconds?: number;
  rssBytes: number;
  /** CPU time (user + system) the process used since it started. */
  cpuSeconds: number;
  /** What the worker can do beyond its step, for submit-time checks (OCR: its installed languages). */
  capabilities?: WorkerCapabilities;
}

export interface WorkerCapabilities {
  languages?: string[];
}

/** A worker unseen for three heartbeats is gone (it died without saying goodbye). */
export function staleAfterMs(heartbeatMs: number): number {
  return heartbeatMs * 3;
}

/**
 * A worker silent this long is gone and its tasks are released: three beats, and never
 * under 5 s, so a short beat (tests beat every 200 ms) cannot turn a pause of a second into
 * a task run twice.
 */
export function goneAfterMs(heartbeatMs: number): number {
  return Math.max(staleAfterMs(heartbeatMs), 5000);
}

export function workersKey(prefix: string): string {
  return `${prefix}:workers`;
}

/** The capabilities each step's workers announced last (kept while no worker of the step is alive). */
function capabilitiesKey(prefix: string): string {
  return `${prefix}:capabilities`;
}

/** Announces a step's capabilities for submit-time checks. */
export async function announceCapabilities(redis: RedisClient, prefix: string, step: string, capabilities: WorkerCapabilities): Promise<void> {
  await redis.hset(capabilitiesKey(prefix), step, JSON.stringify(capabilities));
}

/**
 * What the workers of `step` can do: the union of the live workers' capabilities, or,
 * with none alive (a pool scaled to zero), what the last of them announced; null when
 * no worker of the step ever started.
 */
export async function stepCapabilities(redis: RedisClient, prefix: string, step: string, maxAgeMs: number): Promise<WorkerCapabilities | null> {
  const live = (await liveWorkers(redis, prefix, maxAgeMs)).filter((w) => w.step === step && w.capabilities);
  if (live.length > 0) return { languages: [...new Set(live.flatMap((w) => w.capabilities?.languages ?? []))].sort() };
  const last = await redis.hget(capabilitiesKey(prefix), step);
  return last ? (JSON.parse(last) as WorkerCapabilities) : null;
}

// The beating thread's whole program: its own connection; every interval it writes the
// latest info the worker sent, with the time; on `stop` it removes the entry and quits.
const BEAT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { Cluster, Redis } = require(workerData.ioredis);
const options = { ...workerData.options, maxRetriesPerRequest: null, lazyConnect: false };
const redis = workerData.clusterNodes
  ? new Cluster(workerData.clusterNodes, { redisOptions: options, lazyConnect: false })
  : new Redis(options);
redis.on('error', () => undefined);
let info = null;
const beat = () => {
  if (!info) return;
  redis.hset(workerData.key, info.id, JSON.stringify({ ...info, lastSeen: new Date().toISOString() }))
    .then(() => parentPort.postMessage('sent'), () => undefined);
};
const timer = setInterval(beat, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message.stop === undefined) {
    const first = info === null;
    info = message;
    if (first) beat();
    return;
  }
  clearInterval(timer);
  redis.hdel(workerData.key, message.stop).catch(() => undefined)
    .then(() => redis.quit()).catch(() => undefined)
    .then(() => parentPort.postMessage('stopped'));
});`;

/**
 * A worker's heartbeat: its info in a hash of all workers, with the time it was seen.
 * The beats are written by a thread of their own with its own connection, so they go on
 * while the worker's event loop is busy or starved — a worker is taken for gone only when
 * its process is (gone-workers.ts: three silent beats) — while the main thread sends the
 * info (counts, tasks, memory, its event-loop lag) every interval and answers the liveness
 * probe by its own timer. `stop` removes the entry at once.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private thread: Worker | undefined;
  private readonly startedAt = new Date().toISOString();
  /** When the main thread's timer last fired (the event loop turns), and when Redis last took a beat. */
  private lastBeatAt = Date.now();
  private lastSentAt = 0;
  private stopped = false;
  /** The main thread's beat on its way, which `stop` lets land before it removes the entry. */
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly intervalMs: number,
    private readonly describe: () => Omit<WorkerInfo, 'pid' | 'host' | 'startedAt' | 'lastSeen' | 'rssBytes' | 'cpuSeconds' | 'eventLoopLagSeconds'>,
  ) {}

  /** Event-loop delay, sampled every 20 ms; each beat reports the worst since the last and starts over. */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

  /**
   * Starts beating. Resolves once the first beat is in Redis, written from here: a worker
   * must be known before it takes a task, or a kill right after its start leaves nothing to
   * find its tasks by.
   */
  start(): Promise<void> {
    this.loopDelay.enable();
    this.thread = new Worker(BEAT_THREAD, {
      eval: true,
      workerData: {
        ioredis: require.resolve('ioredis'),
        ...connectionRecipe(this.redis),
        key: workersKey(this.prefix),
        intervalMs: this.intervalMs,
      },
    });
    this.thread.unref();
    this.thread.on('message', (message) => {
      if (message === 'sent') this.lastSentAt = Date.now();
    });
    this.thread.on('error', () => undefined);
    this.timer = setInterval(() => void this.beatHere(this.update()).catch(() => undefined), this.intervalMs);
    this.timer.unref();
    // (A worker's connection waits for Redis rather than fail; another kind may give up.)
    return this.beatHere(this.update()).catch(() => undefined);
  }

  /**
   * A beat written from the main thread too, each interval: the thread covers the times the
   * loop is busy, this covers the thread's own start (loading a client, connecting).
   */
  private beatHere(info: Omit<WorkerInfo, 'lastSeen'>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inFlight = this.redis
      .hset(workersKey(this.prefix), info.id, JSON.stringify({ ...info, lastSeen: new Date().toISOString() }))
      .then(() => void (this.lastSentAt = Date.now()));
    return this.inFlight;
  }

  /** Sends the beating thread what the worker is doing now (and returns it). */
  private update(): Omit<WorkerInfo, 'lastSeen'> {
    this.lastBeatAt = Date.now();
    const info: Omit<WorkerInfo, 'lastSeen'> = {
      ...this.describe(),
      pid: process.pid,
      host: hostname(),
      startedAt: this.startedAt,
      rssBytes: process.memoryUsage.rss(),
      cpuSeconds: cpuSeconds(),
      eventLoopLagSeconds: this.loopDelay.count > 0 ? Math.round(this.loopDelay.max / 1e3) / 1e6 : 0,
    };
    this.loopDelay.reset();
    this.thread?.postMessage(info);
    return info;
  }

  /** Null while beats go out on time and reach Redis, else what is wrong (for health probes). */
  problems(now = Date.now()): { live: string | null; ready: string | null } {
    const limit = staleAfterMs(this.intervalMs);
    const live = now - this.lastBeatAt > limit ? `no heartbeat for ${now - this.lastBeatAt} ms (the event loop is blocked)` : null;
    const ready = now - this.lastSentAt > limit ? `Redis has not taken a heartbeat for ${now - this.lastSentAt} ms` : null;
    return { live, ready: live ?? ready };
  }

  /** Stops beating and removes the entry (waits at most two intervals for Redis). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.loopDelay.disable();
    const thread = this.thread;
    if (!thread) return;
    this.thread = undefined;
    await new Promise<void>((done) => {
      const timer = setTimeout(done, Math.max(1000, 2 * this.intervalMs));
      thread.on('message', (message) => message === 'stopped' && (clearTimeout(timer), done()));
      thread.postMessage({ stop: this.describe().id });
    });
    await thread.terminate();
    // A beat of the main thread may have landed after the thread's removal: remove it once more.
    await this.inFlight.catch(() => undefined);
    await this.redis.hdel(workersKey(this.prefix), this.describe().id).catch(() => undefined);
  }
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Every worker that beat and did not say goodbye: live ones, and gone ones not yet released (see gone-workers.ts). */
export async function heartbeats(redis: RedisClient, prefix: string): Promise<WorkerInfo[]> {
  return Object.values(await redis.hgetall(workersKey(prefix))).map((json) => JSON.parse(json) as WorkerInfo);
}

/** Workers seen within `maxAgeMs`. (A stale entry stays until its worker's tasks are released.) */
export async function liveWorkers(redis: RedisClient, prefix: string, maxAgeMs: number): Promise<WorkerInfo[]> {
  const now = Date.now();
  return (await heartbeats(redis, prefix)).filter((info) => now - Date.parse(info.lastSeen) <= maxAgeMs);
}

/** How a worker is named in error histories and logs. */
export const workerName = (info: Pick<WorkerInfo, 'id' | 'pid' | 'host'>) => `${info.id} pid ${info.pid} on ${info.host}`;

/**
 * The name BullMQ gives the worker's Redis connection (CLIENT SETNAME, which takes no
 * spaces: with them the name is refused, and Bull Board, which finds workers by their
 * connections' names, shows none) and keeps on its tasks as processedBy.
 */
export const bullWorkerName = (name: string) => name.replaceAll(' ', '_');
/** A task's processedBy as the worker's own name (ids and host names hold no "_"). */
export const fromBullWorkerName = (processedBy: string) => processedBy.replaceAll('_', ' ');
