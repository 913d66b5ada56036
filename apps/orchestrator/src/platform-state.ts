import { queueSignals, readCounters, type PlatformCounters, type QueueSignals } from '@docproc/batches';
import { DEAD_LETTER_QUEUE, STEPS } from '@docproc/catalog';
import { readScaling, type ScalingSnapshot } from '@docproc/pools';
import { liveWorkers, staleAfterMs, type WorkerInfo } from '@docproc/runtime';
import type { AppDeps } from './deps';

/** The whole platform at one moment, as /metrics, /api/stats and the summary line show it. */
export interface PlatformState {
  at: Date;
  /** Live workers, from their heartbeats. */
  workers: WorkerInfo[];
  /** Each step queue, then the dead-letter queue. */
  queues: QueueSignals[];
  counters: PlatformCounters;
  /** The autoscaler's latest look (null before its first). */
  scaling: ScalingSnapshot | null;
  /** Documents waiting for a person's review. */
  reviewsWaiting: number;
  /** Documents each tenant with work or refusals had accepted today (UTC). */
  documentsToday: Record<string, number>;
}

export async function readPlatformState(deps: Pick<AppDeps, 'redis' | 'queues' | 'store' | 'config'>): Promise<PlatformState> {
  const { redis, queues, store, config } = deps;
  const now = Date.now();
  const [workers, signals, counters, scaling, reviewsWaiting] = await Promise.all([
    liveWorkers(redis, config.keyPrefix, staleAfterMs(config.heartbeatMs)),
    Promise.all([...STEPS.map((step) => queues.get(step)), queues.deadLetters()].map((queue) => queueSignals(queue, redis, now))),
    readCounters(redis, store.keys.counters),
    readScaling(redis, config.keyPrefix, null),
    redis.zcard(store.keys.reviews),
  ]);
  const tenants = [...new Set([...Object.keys(counters.tenantLoads), ...counters.quotaRefusals.map((r) => r.tenant)])];
  const today = await Promise.all(tenants.map((tenant) => store.today(tenant)));
  const documentsToday = Object.fromEntries(tenants.map((tenant, i) => [tenant, today[i]!]));
  return { at: new Date(now), workers, queues: signals, counters, scaling: scaling.latest, reviewsWaiting, documentsToday };
}

export const isDeadLetterQueue = (q: QueueSignals) => q.queue === DEAD_LETTER_QUEUE;
