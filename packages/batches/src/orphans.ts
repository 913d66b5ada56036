import { FINAL_TASK_STATUSES, STEPS, queueName } from '@docproc/catalog';
import type { BatchStore } from './batch-store';
import type { StepQueues } from './chain';
import { startAgainFrom } from './lifecycle';
import type { DocumentRecord } from './records';
import { removeDocumentTasks } from './task-removal';
import type { BlobStore } from '@docproc/storage';
import type { RedisClient } from './redis-client';

/** BullMQ's states in which a task will still run (its keys under the queue's prefix). */
const LIVE_LISTS = ['wait', 'active', 'paused'] as const;
const LIVE_SETS = ['delayed', 'prioritized', 'waiting-children'] as const;

/** The documents that have a task in a state that will still run, from the tasks' ids ("<documentId>.<step>[.p<page>]"). */
async function documentsWithLiveTasks(redis: RedisClient, prefix: string): Promise<Set<string>> {
  const multi = redis.multi();
  for (const step of STEPS) {
    const queue = `${prefix}:${queueName(step)}:`;
    for (const list of LIVE_LISTS) multi.lrange(queue + list, 0, -1);
    for (const set of LIVE_SETS) multi.zrange(queue + set, 0, -1);
  }
  const replies = (await multi.exec()) ?? [];
  const documents = new Set<string>();
  for (const [err, ids] of replies) {
    if (err) throw err;
    for (const id of ids as string[]) documents.add(id.slice(0, id.indexOf('.')));
  }
  return documents;
}

/** What a document's record says of where it stands: unchanged between two sweeps, nothing moved it on. */
const standing = (doc: DocumentRecord) =>
  [
    doc.status,
    ...STEPS.map((step) => `${doc.steps[step]?.status ?? ''}/${doc.steps[step]?.attempts ?? 0}/${doc.steps[step]?.pages?.done ?? ''}`),
  ].join('|');

/**
 * Finds the documents that wait on nothing — not ended, no review awaited, and no task of
 * theirs in a state that will run (a task Redis itself failed, a record whose next task was
 * never queued) — and sends each round again from the step it stands at. A document counts
 * as such only when a sweep finds it so, standing where the sweep before found it: a step's
 * record and its next task are two writes, and a sweep may fall between them.
 */
export class OrphanSweeper {
  /** Documents without a task at the last sweep, with where they stood then. */
  private suspects = new Map<string, string>();

  constructor(private readonly deps: { redis: RedisClient; prefix: string; store: BatchStore; queues: StepQueues; blobs: BlobStore }) {}

  /** One sweep: returns the documents sent round again. */
  async sweep(): Promise<{ batchId: string; documentId: string; step: string }[]> {
    const { store, queues } = this.deps;
    const repaired: { batchId: string; documentId: string; step: string }[] = [];
    const suspects = new Map<string, string>();
    // Read the tasks before the records: a document that moves on in between is not taken for an orphan.
    const live = await documentsWithLiveTasks(this.deps.redis, this.deps.prefix);
    for (const batchId of await store.unfinishedBatches()) {
      const batch = await store.getBatch(batchId);
      if (!batch || batch.status === 'cancelled') continue;
      const ids = (await store.getDocumentIds(batchId)).filter((id) => !live.has(id));
      for (let i = 0; i < ids.length; i += 200) {
        for (const doc of await store.getDocuments(ids.slice(i, i + 200))) {
          if (!doc || FINAL_TASK_STATUSES.includes(doc.status) || doc.review?.status === 'waiting') continue;
          const where = standing(doc);
          if (this.suspects.get(doc.id) !== where) {
            suspects.set(doc.id, where);
            continue;
          }
          const from = batch.pipeline.find((step) => doc.steps[step]?.status !== 'completed');
          if (!from) continue;
          await removeDocumentTasks(queues, store, [doc.id], batch.pipeline.slice(batch.pipeline.indexOf(from)));
          await startAgainFrom(this.deps, batch, doc, from);
          await store.countRepair();
          repaired.push({ batchId, documentId: doc.id, step: from });
        }
      }
    }
    this.suspects = suspects;
    return repaired;
  }
}
