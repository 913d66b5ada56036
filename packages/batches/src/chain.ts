import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { PAGED_STEPS, STEP_JOB_OPTIONS, queueName, toQueuePriority, type StepName, type StepPayload } from '@docproc/catalog';
import type { BatchStatus, PreprocessPage } from '@docproc/catalog';
import type { BatchStore, StepOutcome } from './batch-store';
import type { BatchRecord, NewBatch } from './records';

/** BullMQ job id of one step of one document (of one page of it): stable, so a step is never queued twice. */
export function stepJobId(documentId: string, step: StepName, page?: number): string {
  return page === undefined ? `${documentId}.${step}` : `${documentId}.${step}.p${page}`;
}

/** The job options of one step of one document. */
export function stepJobOptions(documentId: string, step: StepName, priority: number): JobsOptions {
  return { ...STEP_JOB_OPTIONS[step], jobId: stepJobId(documentId, step), priority: toQueuePriority(priority) };
}

/** The step after `payload.step` in its pipeline, if any. */
export function nextStep(payload: Pick<StepPayload, 'step' | 'pipeline'>): StepName | undefined {
  return payload.pipeline[payload.pipeline.indexOf(payload.step) + 1];
}

/** One BullMQ Queue per step, made when first needed, sharing one connection. */
export class StepQueues {
  private readonly queues = new Map<StepName, Queue>();

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix: string,
  ) {}

  get(step: StepName): Queue {
    let queue = this.queues.get(step);
    if (!queue) {
      queue = new Queue(queueName(step), { connection: this.connection, prefix: this.prefix });
      this.queues.set(step, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/**
 * A document's task chain is one job at a time: the batch queues each
 * document's first step, and each step's worker queues the next step once
 * its own result is stored. (BullMQ flows would queue the whole chain up
 * front; measured here they ran at 0.6 of this hand-made chain, see
 * docs/benchmarks.md.) Stable job ids make a re-run step's "queue the next
 * step" a no-op, so a worker that dies between the two never doubles a step.
 */
export async function enqueueBatch(queues: StepQueues, batch: NewBatch): Promise<void> {
  const first = batch.pipeline[0];
  if (!first) throw new Error('a pipeline needs at least one step');
  const jobs = batch.documents.map((doc) => {
    const data: StepPayload = {
      batchId: batch.id,
      documentId: doc.id,
      step: first,
      pipeline: batch.pipeline,
      name: doc.name,
      blobKey: doc.blobKey,
      options: batch.options,
    };
    return { name: first, data, opts: stepJobOptions(doc.id, first, batch.priority) };
  });
  // addBulk is one MULTI: chunks keep a huge batch from holding Redis for long.
  for (let i = 0; i < jobs.length; i += 1000) await queues.get(first).addBulk(jobs.slice(i, i + 1000));
}

/** The BullMQ options of a step job of a document (of one page of it), with the priority of the step before. */
function nextJobOptions(documentId: string, step: StepName, queuePriority: number | undefined, page?: number): JobsOptions {
  return { ...STEP_JOB_OPTIONS[step], jobId: stepJobId(documentId, step, page), priority: queuePriority };
}

/**
 * Queues the page jobs of the paged step after `payload.step` (OCR) for the
 * given pages of `count`: all of them once the step ended, or one as soon as
 * the step has finished it (`source`, so the page job needs nothing else).
 * The caller keeps the page count in the record first (BatchStore.setPageCount),
 * once per document, so cancelling can take the page jobs off the queue.
 */
export async function queuePageJobs(
  queues: StepQueues,
  payload: StepPayload,
  pages: { index: number; source?: PreprocessPage }[],
  count: number,
  queuePriority: number | undefined,
): Promise<void> {
  const step = nextStep(payload);
  if (!step || !PAGED_STEPS.includes(step)) throw new Error(`the step after ${payload.step} does not run page by page`);
  const { page: _page, ...base } = payload;
  await queues.get(step).addBulk(
    pages.map(({ index, source }) => ({
      name: step,
      data: { ...base, step, page: { index, count, ...(source ? { source } : {}) } } satisfies StepPayload,
      opts: nextJobOptions(payload.documentId, step, queuePriority, index),
    })),
  );
}

/**
 * Records a completed step, then queues the document's next step with the
 * BullMQ priority of the step that ran, unless the record says the batch was
 * cancelled or the step already handed its pages on (`next: 'queued'`). A
 * paged next step (OCR) gets one job per page when the step made `pageCount`
 * pages, so the pages spread over the whole pool. Returns the batch status.
 * (One MULTI for the record and the add was measured slower: ioredis copies
 * every BullMQ script onto each new pipeline.)
 */
export async function recordStepAndQueueNext(
  store: BatchStore,
  queues: StepQueues,
  payload: StepPayload,
  outcome: StepOutcome,
  queuePriority: number | undefined,
  next: { pageCount: number } | 'queued' = { pageCount: 0 },
): Promise<BatchStatus> {
  const status = await store.recordStep(payload.batchId, payload.documentId, payload.step, outcome);
  const step = nextStep(payload);
  if (!step || status === 'cancelled' || next === 'queued') return status;
  if (PAGED_STEPS.includes(step) && next.pageCount > 0) {
    const pages = Array.from({ length: next.pageCount }, (_, index) => ({ index }));
    // The count first: cancelling reads it to take the page jobs off the queue.
    await store.setPageCount(payload.documentId, step, next.pageCount);
    await queuePageJobs(queues, payload, pages, next.pageCount, queuePriority);
  } else {
    const { page: _page, ...base } = payload;
    await queues.get(step).add(step, { ...base, step } satisfies StepPayload, nextJobOptions(payload.documentId, step, queuePriority));
  }
  return status;
}

/**
 * Takes a cancelled batch's waiting steps off their queues, page jobs
 * included (best effort: a step already running finishes, and recordStep
 * then stops its chain; a page job that escapes skips when it starts).
 */
export async function removeQueuedSteps(queues: StepQueues, store: BatchStore, batch: Pick<BatchRecord, 'id' | 'pipeline'>): Promise<void> {
  const documentIds = await store.getDocumentIds(batch.id);
  const paged = batch.pipeline.filter((step) => PAGED_STEPS.includes(step));
  for (let i = 0; i < documentIds.length; i += 200) {
    const chunk = documentIds.slice(i, i + 200);
    const pageCounts = await store.pageCounts(chunk, paged);
    const jobs = chunk.flatMap((documentId, d) =>
      batch.pipeline.flatMap((step) => {
        const pages = Array.from({ length: pageCounts[d]?.[step] ?? 0 }, (_, page) => stepJobId(documentId, step, page));
        return [stepJobId(documentId, step), ...pages].map((jobId) => [step, jobId] as const);
      }),
    );
    await Promise.all(
      jobs.map(([step, jobId]) =>
        queues
          .get(step)
          .remove(jobId)
          .catch(() => 0),
      ),
    );
  }
}
