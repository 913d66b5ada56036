import { randomUUID } from 'node:crypto';
import { deleteBatch, type BatchStore, type StepQueues } from '@docproc/batches';
import type { Logger } from '@docproc/runtime';
import type { BlobStore } from '@docproc/storage';
import type { Redis } from 'ioredis';

export interface RetentionDeps {
  redis: Redis;
  store: BatchStore;
  queues: StepQueues;
  blobs: BlobStore;
  logger: Logger;
  retentionHours: number;
}

/** Removes every batch that ended more than the retention time ago; returns how many. */
export async function sweepExpired(deps: RetentionDeps, now = Date.now()): Promise<number> {
  const cutoff = now - deps.retentionHours * 3_600_000;
  let removed = 0;
  for (;;) {
    const ids = await deps.store.finishedBefore(cutoff, 20);
    if (ids.length === 0) return removed;
    for (const id of ids) {
      await deleteBatch(deps.store, deps.queues, deps.blobs, id);
      deps.logger.info('batch expired', { batchId: id });
      removed++;
    }
  }
}

/**
 * Runs sweepExpired every `everySeconds`. With several orchestrators, a lock
 * in Redis lets one sweep at a time. Returns a function that stops it.
 */
export function startRetention(deps: RetentionDeps, everySeconds: number): () => Promise<void> {
  const lockKey = `${deps.store.keys.batches}:sweeping`;
  const me = randomUUID();
  let running: Promise<unknown> = Promise.resolve();
  const sweep = async () => {
    const got = await deps.redis.set(lockKey, me, 'PX', Math.max(60_000, everySeconds * 2000), 'NX');
    if (got !== 'OK') return;
    try {
      await sweepExpired(deps);
    } finally {
      if ((await deps.redis.get(lockKey)) === me) await deps.redis.del(lockKey);
    }
  };
  const timer = setInterval(() => {
    running = sweep().catch((err: Error) => deps.logger.warn('retention sweep failed', { error: err.message }));
  }, everySeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
