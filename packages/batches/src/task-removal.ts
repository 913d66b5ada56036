import { PAGED_STEPS, type StepName } from '@docproc/catalog';
import type { BatchStore } from './batch-store';
import type { StepQueues } from './chain';
import { taskIdOf } from './chain';
import type { BatchRecord } from './records';

/** The ids of every task a document's `steps` can have (page tasks up to the known page counts), per step. */
function documentTaskIds(documentId: string, steps: StepName[], pageCounts: Partial<Record<StepName, number>>): [StepName, string][] {
  return steps.flatMap((step) => {
    const pages = Array.from({ length: pageCounts[step] ?? 0 }, (_, page) => taskIdOf(documentId, step, page));
    return [taskIdOf(documentId, step), ...pages].map((id) => [step, id] as [StepName, string]);
  });
}

/**
 * Removes the tasks of the documents' `steps` (waiting, delayed, finished;
 * an active one is left to its worker) and their dead letters.
 */
export async function removeDocumentTasks(queues: StepQueues, store: BatchStore, documentIds: string[], steps: StepName[]): Promise<void> {
  const paged = steps.filter((step) => PAGED_STEPS.includes(step));
  for (let i = 0; i < documentIds.length; i += 200) {
    const chunk = documentIds.slice(i, i + 200);
    const pageCounts = await store.pageCounts(chunk, paged);
    const tasks = chunk.flatMap((documentId, d) => documentTaskIds(documentId, steps, pageCounts[d] ?? {}));
    await Promise.all(
      tasks.flatMap(([step, id]) => [
        queues
          .get(step)
          .remove(id)
          .catch(() => 0),
        queues
          .deadLetters()
          .remove(id)
          .catch(() => 0),
      ]),
    );
  }
}

/**
 * Takes a cancelled batch's waiting tasks off their queues, page tasks
 * included (running ones are aborted by their workers, told by pub/sub; a
 * page task that escapes skips when it starts).
 */
export async function removeQueuedSteps(queues: StepQueues, store: BatchStore, batch: Pick<BatchRecord, 'id' | 'pipeline'>): Promise<void> {
  const total = await store.documentCount(batch.id);
  for (let start = 0; start < total; start += 1000) {
    const ids = await store.getDocumentIds(batch.id, start, start + 999);
    const pageCounts = await store.pageCounts(
      ids,
      batch.pipeline.filter((step) => PAGED_STEPS.includes(step)),
    );
    const tasks = ids.flatMap((documentId, d) => documentTaskIds(documentId, batch.pipeline, pageCounts[d] ?? {}));
    await Promise.all(
      tasks.map(async ([step, id]) => {
        const queue = queues.get(step);
        const state = await queue.getJobState(id);
        if (state === 'waiting' || state === 'prioritized' || state === 'delayed' || state === 'waiting-children')
          await queue.remove(id).catch(() => 0);
      }),
    );
  }
}
