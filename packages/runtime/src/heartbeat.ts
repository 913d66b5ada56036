import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

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
  rssBytes: number;
}

export function workersKey(prefix: string): string {
  return `${prefix}:workers`;
}

/**
 * Every `intervalMs` a worker writes its info into a hash of all workers, with
 * the time it was seen. Readers drop entries older than three intervals (the
 * process died without saying goodbye); `stop` removes the entry at once.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly intervalMs: number,
    private readonly describe: () => Omit<WorkerInfo, 'pid' | 'host' | 'startedAt' | 'lastSeen' | 'rssBytes'>,
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const info: WorkerInfo = {
      ...this.describe(),
      pid: process.pid,
      host: hostname(),
      startedAt: this.startedAt,
      lastSeen: new Date().toISOString(),
      rssBytes: process.memoryUsage.rss(),
    };
    await this.redis.hset(workersKey(this.prefix), info.id, JSON.stringify(info)).catch(() => undefined);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.hdel(workersKey(this.prefix), this.describe().id).catch(() => undefined);
  }
}

/** Workers seen within `maxAgeMs`; stale entries are removed. */
export async function liveWorkers(redis: Redis, prefix: string, maxAgeMs: number): Promise<WorkerInfo[]> {
  const entries = await redis.hgetall(workersKey(prefix));
  const now = Date.now();
  const live: WorkerInfo[] = [];
  for (const [id, json] of Object.entries(entries)) {
    const info = JSON.parse(json) as WorkerInfo;
    if (now - Date.parse(info.lastSeen) <= maxAgeMs) live.push(info);
    else await redis.hdel(workersKey(prefix), id);
  }
  return live;
}
