import { deleteBatch, type BatchStore, type StepQueues } from '@docproc/batches';
import type { Logger } from '@docproc/runtime';
import type { BlobStore } from '@docproc/storage';
import type { RedisClient } from '@docproc/runtime';

export interface RetentionDeps {
  redis: RedisClient;
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
