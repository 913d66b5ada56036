import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import {
  DEAD_LETTER_QUEUE,
  DEFAULT_TENANT,
  PAGED_STEPS,
  queueName,
  taskOptions,
  type PreprocessPage,
  type TaskPolicy,
  type StepName,
  type StepPayload,
} from '@docproc/catalog';
import type { BatchStore } from './batch-store';
import type { NewBatch } from './records';

/** BullMQ job id of one task: a step of a document, or one page of it. Stable, so a task is never queued twice. */
export function taskIdOf(documentId: string, step: StepName, page?: number): string {
  return page === undefined ? `${documentId}.${step}` : `${documentId}.${step}.p${page}`;
}

/** The retry and retention policy of step tasks, from the config's settings. */
export function taskPolicy(config: {
  attempts: TaskPolicy['attempts'];
  backoffMs: TaskPolicy['backoffMs'];
  backoffJitter: number;
  retentionHours: number;
}): TaskPolicy {
  return {
    attempts: config.attempts,
    backoffMs: config.backoffMs,
    backoffJitter: config.backoffJitter,
    retentionSeconds: Math.ceil(config.retentionHours * 3600),
  };
}

/** One BullMQ Queue per step (and the dead-letter queue), made when first needed, sharing one connection. */
export class StepQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix: string,
    readonly policy: TaskPolicy,
  ) {}

  get(step: StepName): Queue {
    return this.queue(queueName(step));
  }

  /** Tasks that ran out of attempts, with their error history. No worker takes from it. */
  deadLetters(): Queue {
    return this.queue(DEAD_LETTER_QUEUE);
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** The options of one task: the step's retries and retention, its stable id, the batch's priority. */
  options(documentId: string, step: StepName, queuePriority: number | undefined, page?: number): JobsOptions {
    return { ...taskOptions(step, this.policy), jobId: taskIdOf(documentId, step, page), priority: queuePriority };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** The step after `payload.step` in its pipeline, if any. */
export function nextStep(payload: Pick<StepPayload, 'step' | 'pipeline'>): StepName | undefined {
  return payload.pipeline[payload.pipeline.indexOf(payload.step) + 1];
}

/** Documents per Redis call when a batch is fanned out: no single call holds Redis for long. */
export const FAN_OUT_CHUNK = 500;

/**
 * Records a batch and its documents, chunk by chunk (one MULTI each): the
 * batch record first, its total final from the start, so the batch cannot
 * end before every document is in and queued. Documents refused at submit
 * are recorded failed. A batch of more than one chunk is marked as being
 * fanned out until queueFirstSteps has queued it all.
 */
export async function recordBatch(store: BatchStore, batch: NewBatch): Promise<void> {
  if (batch.pipeline.length === 0) throw new Error('a pipeline needs at least one step');
  const createdAt = batch.createdAt ?? new Date();
  const total = batch.documents.length;
  const refused = batch.documents.filter((doc) => doc.error).length;
  await store.createBatch({
    id: batch.id,
    tenant: batch.tenant ?? DEFAULT_TENANT,
    submittedBy: batch.submittedBy ?? 'anonymous',
    priority: batch.priority,
    pipeline: batch.pipeline,
    options: batch.options,
    total,
    refused,
    createdAt,
  });
  if (total > FAN_OUT_CHUNK) await store.markFanOut(batch.id, true);
  for (let i = 0; i < total; i += FAN_OUT_CHUNK) await store.addDocuments(batch.id, batch.pipeline, batch.documents.slice(i, i + FAN_OUT_CHUNK));
}

/**
 * Queues each recorded document's first step, one addBulk per chunk, so no
 * single Redis call holds the server for long; stops early when the batch was
 * cancelled meanwhile. Safe to run again (after a crash mid-way): task ids are
 * stable, so a task already queued is not queued twice.
 */
export async function queueFirstSteps(store: BatchStore, queues: StepQueues, batchId: string): Promise<void> {
  const batch = await store.getBatch(batchId);
  const first = batch?.pipeline[0];
  if (!batch || !first) return;
  const total = await store.documentCount(batchId);
  for (let start = 0; start < total; start += FAN_OUT_CHUNK) {
    if (start > 0 && (await store.getBatch(batchId))?.status === 'cancelled') break;
    const docs = await store.getDocuments(await store.getDocumentIds(batchId, start, start + FAN_OUT_CHUNK - 1));
    const tasks = docs
      .filter((doc) => doc !== null && doc.error === null)
      .map((doc) => {
        const data: StepPayload = {
          batchId,
          tenant: batch.tenant,
          documentId: doc!.id,
          step: first,
          pipeline: batch.pipeline,
          name: doc!.name,
          blobKey: doc!.blobKey,
          options: batch.options,
        };
        return { name: first, data, opts: queues.options(doc!.id, first, batch.queuePriority) };
      });
    if (tasks.length > 0) await queues.get(first).addBulk(tasks);
  }
  await store.markFanOut(batchId, false);
}

/** Records a batch and queues it (tests, benchmarks; the API answers before a large batch is all queued). */
export async function submitBatch(store: BatchStore, queues: StepQueues, batch: NewBatch): Promise<void> {
  await recordBatch(store, batch);
  await queueFirstSteps(store, queues, batch.id);
}

/** The payload of `step` for the same document. */
function payloadOf(payload: StepPayload, step: StepName): StepPayload {
  const { page: _page, combine: _combine, ...base } = payload;
  return { ...base, step };
}

/** Queues the document's next step as one task (with the priority of the task that ran). */
export async function queueNextStep(queues: StepQueues, payload: StepPayload, queuePriority: number | undefined): Promise<void> {
  const step = nextStep(payload);
  if (!step) return;
  await queues.get(step).add(step, payloadOf(payload, step), queues.options(payload.documentId, step, queuePriority));
}

/**
 * Hands one finished page on to the paged step after `payload.step` (OCR): one
 * task for that page, carrying the page, so it needs nothing else. The caller
 * keeps the page count in the record first (BatchStore.setPageCount), once per
 * document, so cancelling and retrying know the page tasks.
 */
export async function handPagesOn(
  queues: StepQueues,
  payload: StepPayload,
  pages: PreprocessPage[],
  count: number,
  queuePriority: number | undefined,
  step: StepName | undefined = nextStep(payload),
): Promise<void> {
  if (!step || !PAGED_STEPS.includes(step)) throw new Error(`the step after ${payload.step} does not run page by page`);
  await queues.get(step).addBulk(
    pages.map((source) => ({
      name: step,
      data: { ...payloadOf(payload, step), page: { index: source.index, count, source } } satisfies StepPayload,
      opts: queues.options(payload.documentId, step, queuePriority, source.index),
    })),
  );
}

/**
 * Queues the task that puts the pages of a paged step together, for when the
 * step before ended after the last page was read (its id is the step's own,
 * so it is queued once).
 */
export async function queueCombine(
  queues: StepQueues,
  payload: StepPayload,
  step: StepName,
  count: number,
  queuePriority: number | undefined,
): Promise<void> {
  await queues
    .get(step)
    .add(step, { ...payloadOf(payload, step), combine: { count } } satisfies StepPayload, queues.options(payload.documentId, step, queuePriority));
}
