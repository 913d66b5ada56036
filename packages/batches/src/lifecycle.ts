import { PAGED_STEPS, stepsBefore, type PreprocessPage, type PreprocessResult, type StepName, type StepPayload } from '@docproc/catalog';
import type { BatchRecord } from './records';
import { blobKeys, type BlobStore } from '@docproc/storage';
import type { BatchStore } from './batch-store';
import { handPagesOn, queueCombine, type StepQueues } from './chain';
import { removeDocumentTasks } from './task-removal';
import { readStepResult } from './step-results';

/**
 * Sends the batch's failed and timed-out documents (dead-lettered ones among
 * them) round again, each from the step it failed in: the results of the
 * steps before are kept and reused, a paged step reads only the pages it has
 * not read yet. Their old tasks and dead letters are removed first (the ids
 * are stable). Returns how many documents went round again.
 */
export async function retryBatch(store: BatchStore, queues: StepQueues, blobs: BlobStore, batchId: string): Promise<number> {
  const batch = await store.getBatch(batchId);
  if (!batch) return 0;
  const total = await store.documentCount(batchId);
  let retried = 0;
  for (let start = 0; start < total; start += 200) {
    const docs = (await store.getDocuments(await store.getDocumentIds(batchId, start, start + 199))).filter(
      (doc) => doc !== null && (doc.status === 'failed' || doc.status === 'timeout') && doc.error?.code !== 'empty_document',
    );
    const plans = docs.map((doc) => {
      const from = batch.pipeline.find((step) => doc!.steps[step]?.status !== 'completed') ?? batch.pipeline[0]!;
      return { doc: doc!, from, steps: batch.pipeline.slice(batch.pipeline.indexOf(from)) };
    });
    for (const { doc, steps } of plans) await removeDocumentTasks(queues, store, [doc.id], steps);
    const reopened = new Set(
      await store.reopenDocuments(
        batchId,
        plans.map(({ doc, steps }) => ({ id: doc.id, steps })),
      ),
    );
    for (const { doc, from } of plans) {
      if (!reopened.has(doc.id)) continue;
      await startAgainFrom({ store, queues, blobs }, batch, doc, from);
      retried++;
    }
  }
  return retried;
}

/**
 * Removes a finished batch at once: its tasks (and dead letters), its blobs
 * (documents, pages, results), then its records. Safe to run again after a
 * partial removal.
 */
export async function deleteBatch(store: BatchStore, queues: StepQueues, blobs: BlobStore, batchId: string): Promise<void> {
  const batch = await store.getBatch(batchId);
  if (batch) {
    const total = await store.documentCount(batchId);
    for (let start = 0; start < total; start += 500) {
      await removeDocumentTasks(queues, store, await store.getDocumentIds(batchId, start, start + 499), batch.pipeline);
    }
  }
  await blobs.deletePrefix(blobKeys.batch(batchId));
  await store.deleteBatchRecords(batchId);
}

/**
 * Sends a document round again from the step `from` (the results of the steps before are
 * kept): a paged step gets the pages of the step before that it has not read yet.
 */
export async function startAgainFrom(
  deps: { store: BatchStore; queues: StepQueues; blobs: BlobStore },
  batch: Pick<BatchRecord, 'id' | 'tenant' | 'pipeline' | 'options' | 'queuePriority'>,
  doc: { id: string; name: string; blobKey: string },
  from: StepName,
): Promise<void> {
  const previous = stepsBefore(batch.pipeline, from).at(-1);
  let pages: PreprocessResult['pages'] | undefined;
  if (PAGED_STEPS.includes(from) && previous === 'preprocess') {
    pages = (await readStepResult<'preprocess'>(deps.blobs, await deps.store.stepResult(doc.id, previous)))?.pages;
  }
  await queueFromStep(deps.queues, deps.store, batch, doc, from, pages);
}

/**
 * Sends a reopened document round again from `step`: a paged step whose step
 * before completed gets a task for each page not read yet (or, when all were,
 * the task that puts them together); any other step one task.
 */
async function queueFromStep(
  queues: StepQueues,
  store: BatchStore,
  batch: Pick<BatchRecord, 'id' | 'tenant' | 'pipeline' | 'options' | 'queuePriority'>,
  doc: { id: string; name: string; blobKey: string },
  step: StepName,
  previousPages: PreprocessPage[] | undefined,
): Promise<void> {
  const priority = batch.queuePriority;
  const payload: StepPayload = {
    batchId: batch.id,
    tenant: batch.tenant,
    documentId: doc.id,
    step,
    pipeline: batch.pipeline,
    name: doc.name,
    blobKey: doc.blobKey,
    options: batch.options,
  };
  const previous = stepsBefore(batch.pipeline, step).at(-1);
  if (!PAGED_STEPS.includes(step) || !previous || !previousPages || previousPages.length === 0) {
    await queues.get(step).add(step, payload, queues.options(doc.id, step, priority));
    return;
  }
  const count = previousPages.length;
  await store.setPageCount(doc.id, step, count);
  const done = await store.donePages(doc.id, step);
  const missing = previousPages.filter((page) => !done.has(page.index));
  const before = { ...payload, step: previous };
  if (missing.length === 0) await queueCombine(queues, before, step, count, priority);
  else await handPagesOn(queues, before, missing, count, priority, step);
}
