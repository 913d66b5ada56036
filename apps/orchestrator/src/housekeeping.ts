import { Lease, OrphanSweeper, queueFirstSteps, type BatchStore, type StepQueues } from '@docproc/batches';
import type { Config } from '@docproc/config';
import type { Logger } from '@docproc/runtime';
import type { BlobStore } from '@docproc/storage';
import type { RedisClient } from '@docproc/runtime';
import { sweepExpired } from './retention';

export interface HousekeepingDeps {
  redis: RedisClient;
  store: BatchStore;
  queues: StepQueues;
  blobs: BlobStore;
  logger: Logger;
}

/** How long a lease lasts without renewal: a dead orchestrator's work is taken up this long after it died. */
const LEASE_MS = 15_000;

/** The lease of a batch's fan-out: its holder queues the batch's first tasks. */
const fanOutLease = (store: BatchStore, batchId: string) => `${store.keys.batch(batchId)}:fanning-out`;

/** Takes the fan-out lease of a batch (null when another orchestrator holds it). */
export function takeFanOut(deps: Pick<HousekeepingDeps, 'redis' | 'store'>, batchId: string): Promise<Lease | null> {
  return Lease.take(deps.redis, fanOutLease(deps.store, batchId), LEASE_MS);
}

/**
 * Queues a large batch's first tasks (after the API answered), holding the batch's fan-out
 * lease — the one the submit took before the batch was recorded (so no other orchestrator
 * starts it meanwhile), or, resuming, one taken now. Should this process die mid-way,
 * another resumes once the lease runs out (queueing a task twice is a no-op: task ids are
 * stable). A failure is logged and tried again at the next look.
 */
export async function fanOut(deps: Pick<HousekeepingDeps, 'redis' | 'store' | 'queues' | 'logger'>, batchId: string, held?: Lease): Promise<void> {
  const started = Date.now();
  let lease: Lease | null = held ?? null;
  try {
    lease ??= await takeFanOut(deps, batchId);
    if (!lease) return;
    await queueFirstSteps(deps.store, deps.queues, batchId);
    deps.logger.info('batch fanned out', { batchId, ms: Date.now() - started });
  } catch (err) {
    deps.logger.error('fan-out stopped; it is tried again shortly', { batchId, error: (err as Error).message });
  } finally {
    await lease?.giveUp();
  }
}

/**
 * The orchestrator's rounds, each done by one orchestrator at a time (a Lease in Redis):
 * every few seconds, fan-outs that stopped mid-way (an orchestrator killed, Redis full) are
 * resumed; every `orphanSweepSeconds`, documents waiting on no task are sent round again
 * (OrphanSweeper); every `retentionSweepSeconds`, batches past retention are removed.
 * Returns a function that stops them (waiting for a round under way).
 */
export function startHousekeeping(
  deps: HousekeepingDeps,
  config: Pick<Config, 'keyPrefix' | 'retentionHours' | 'retentionSweepSeconds' | 'orphanSweepSeconds' | 'heartbeatMs'>,
): () => Promise<void> {
  const { redis, store, logger } = deps;
  const sweeper = new OrphanSweeper({ ...deps, prefix: config.keyPrefix });
  const rounds: [what: string, everyMs: number, round: () => Promise<unknown>][] = [
    ['resume fan-outs', config.heartbeatMs, async () => Promise.all((await store.fanningOut()).map((id) => fanOut(deps, id)))],
    [
      'repair orphaned documents',
      config.orphanSweepSeconds * 1000,
      () =>
        Lease.holding(redis, `${store.keys.batches}:orphan-sweep`, LEASE_MS, async () => {
          for (const repaired of await sweeper.sweep()) logger.warn('document found waiting on no task: sent round again', repaired);
        }),
    ],
    [
      'retention sweep',
      config.retentionSweepSeconds * 1000,
      () => Lease.holding(redis, `${store.keys.batches}:sweeping`, LEASE_MS, () => sweepExpired({ ...deps, retentionHours: config.retentionHours })),
    ],
  ];
  const running = new Set<Promise<unknown>>();
  const timers = rounds.map(([what, everyMs, round]) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const turn = round()
        .catch((err: Error) => logger.warn(`${what} failed`, { error: err.message }))
        .finally(() => {
          busy = false;
          running.delete(turn);
        });
      running.add(turn);
    }, everyMs);
    timer.unref();
    return timer;
  });
  return async () => {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(running);
  };
}
