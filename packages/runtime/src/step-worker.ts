import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import {
  queueName,
  stepPayloadSchema,
  stepResultSchemas,
  stepsBefore,
  toDocumentError,
  type StepName,
  type StepPayload,
  type PreprocessPage,
  type StepResults,
  type TaskStatus,
  PAGED_STEPS,
} from '@docproc/catalog';
import { BatchStore, StepQueues, nextStep, queuePageJobs, recordStepAndQueueNext } from '@docproc/batches';
import { blobKeys, getJson, type BlobStore } from '@docproc/storage';
import { Heartbeat } from './heartbeat';
import { pagedRunner, type PageWork } from './paged-step';

export type { PageWork };

/** What a step's processor gets: its payload, the earlier steps' results, and where to put bytes. */
export interface StepContext {
  payload: StepPayload;
  /** The result of an earlier step of this document, read when asked; undefined when it is not in the pipeline. */
  resultOf<E extends StepName>(step: E): Promise<StepResults[E] | undefined>;
  blobs: BlobStore;
  logger: Logger;
  /** Reports progress (0-100) to BullMQ, for Bull Board and job progress. */
  progress(percent: number): Promise<void>;
  /**
   * Hands one finished page (of `count`) on to the next step at once when that
   * step runs page by page (OCR), so it starts before this step ends; a no-op
   * otherwise. Preprocessing calls it for each page it stored.
   */
  pageReady(page: PreprocessPage, count: number): Promise<void>;
}

export type StepProcessor<S extends StepName> = (ctx: StepContext) => Promise<StepResults[S]>;

export interface StepWorkerOptions<S extends StepName> {
  step: S;
  processor: StepProcessor<S>;
  /** A connection made with createRedis(url, 'worker'); BullMQ duplicates it for blocking calls. */
  connection: Redis;
  prefix: string;
  blobs: BlobStore;
  logger: Logger;
  concurrency: number;
  heartbeatMs?: number;
  /** For a paged step: how to run one page and combine them. */
  pages?: PageWork<S>;
}

export interface StepWorker {
  readonly id: string;
  readonly worker: Worker;
  /** Stops taking jobs, waits for the running ones, and says goodbye. */
  close(): Promise<void>;
}

/** The small value a step job returns (kept by BullMQ): the blob key of a large result, null when it is inline in the record. */
export interface StepJobReturn {
  resultKey: string | null;
}

/** Results up to this size stay in Redis with the document's record; larger ones go to the blob store. */
export const INLINE_RESULT_BYTES = 16 * 1024;

/** Reads an earlier step's result only when a processor asks for it. */
function earlierResults(store: BatchStore, blobs: BlobStore, payload: StepPayload): StepContext['resultOf'] {
  const earlier = stepsBefore(payload.pipeline, payload.step);
  return async <E extends StepName>(step: E) => {
    if (!earlier.includes(step)) return undefined;
    const { json, blobKey } = await store.stepResult(payload.documentId, step);
    if (json !== undefined) return JSON.parse(json) as StepResults[E];
    if (blobKey !== undefined) return getJson<StepResults[E]>(blobs, blobKey);
    throw new Error(`the ${step} result of document ${payload.documentId} is missing`);
  };
}

const statusOfError = (code: string): TaskStatus => (code === 'cancelled' ? 'cancelled' : code === 'timeout' ? 'timeout' : 'failed');

/** How many pages a step's result made (preprocessing's pages), for a paged next step. */
function pageCountOf(result: unknown): number {
  const pages = (result as { pages?: unknown }).pages;
  return Array.isArray(pages) ? pages.length : 0;
}

/**
 * Runs one step's processor on its queue. Around the processor it keeps the
 * records true: it stores the result (small ones inline in Redis, large ones
 * in the blob store), records the step in one call, queues the document's
 * next step unless the batch was cancelled, and records a document's failure
 * once retries are over (bad input is not retried: UnrecoverableError).
 */
export function startStepWorker<S extends StepName>(options: StepWorkerOptions<S>): StepWorker {
  const { step, processor, connection, prefix, blobs, logger } = options;
  // Records go over a connection of their own with auto-pipelining: the record calls of
  // jobs ending in the same tick share one write, and none waits behind BullMQ's traffic.
  const recordsConnection = connection.duplicate({ enableAutoPipelining: true });
  recordsConnection.on('error', (err: Error) => logger.warn('redis error (records)', { error: err.message }));
  const store = new BatchStore(recordsConnection, prefix);
  const queues = new StepQueues(connection, prefix);
  const id = `${step}-${randomUUID().slice(0, 8)}`;
  const counts = { processed: 0, failed: 0, active: 0 };

  const runPage = options.pages ? pagedRunner({ step, store, blobs, work: options.pages }) : undefined;

  async function run(job: Job): Promise<StepJobReturn> {
    const parsed = stepPayloadSchema.safeParse(job.data);
    if (!parsed.success) {
      logger.error('invalid job payload', { taskId: job.id, issues: parsed.error.issues.map((i) => i.path.join('.')) });
      throw new UnrecoverableError('invalid job payload');
    }
    const payload = parsed.data;
    const { batchId, documentId } = payload;
    const log = logger.child({ batchId, documentId, taskId: job.id, step });
    const isLastStep = payload.pipeline[payload.pipeline.length - 1] === step;

    let startedAt = Date.now();
    const attempt = job.attemptsMade + 1;
    const next = nextStep(payload);
    const streams = next !== undefined && PAGED_STEPS.includes(next) && payload.page === undefined;
    let handedOn = false;
    const ctx: StepContext = {
      payload,
      resultOf: earlierResults(store, blobs, payload),
      blobs,
      logger: log,
      progress: (p) => job.updateProgress(p),
      pageReady: async (page, count) => {
        if (!streams) return;
        if (!handedOn) await store.setPageCount(documentId, next, count); // once: cancelling reads it
        await queuePageJobs(queues, payload, [{ index: page.index, source: page }], count, job.opts.priority);
        handedOn = true;
      },
    };
    try {
      let output: StepResults[S];
      if (payload.page) {
        if (!runPage) throw new UnrecoverableError(`the ${step} step does not run page by page`);
        const combined = await runPage(ctx, payload.page, startedAt);
        if (combined === undefined) return { resultKey: null }; // a page done, and others still to come
        ({ result: output, startedAt } = combined);
      } else {
        output = await processor(ctx);
      }
      const result = stepResultSchemas[step].parse(output);
      const json = JSON.stringify(result);
      const stored: { resultJson?: string; resultKey?: string } = {};
      if (Buffer.byteLength(json) <= INLINE_RESULT_BYTES) stored.resultJson = json;
      else await blobs.put((stored.resultKey = blobKeys.result(batchId, documentId, step)), json);

      const outcome = {
        status: 'completed' as const,
        startedAt,
        attempts: attempt,
        documentStatus: isLastStep ? ('completed' as const) : undefined,
        ...stored,
      };
      const batchStatus = await recordStepAndQueueNext(
        store,
        queues,
        payload,
        outcome,
        job.opts.priority,
        handedOn ? 'queued' : { pageCount: pageCountOf(result) },
      );
      if (batchStatus === 'cancelled') log.info('batch cancelled: the document stops here');
      // The combined result is recorded: the per-page results it was made from are not needed any more.
      if (payload.page) await blobs.deletePrefix(blobKeys.pageResults(batchId, documentId, step)).catch(() => undefined);
      // winston formats every message before its level filter: keep the hot path free of it.
      if (logger.isDebugEnabled()) log.debug('step completed', { ms: Date.now() - startedAt });
      return { resultKey: stored.resultKey ?? null };
    } catch (thrown) {
      const error = toDocumentError(thrown);
      const attempts = job.opts.attempts ?? 1;
      const lastAttempt = error.permanent || attempt >= attempts;
      if (lastAttempt) {
        const status = statusOfError(error.code);
        await store.recordStep(batchId, documentId, step, { status, startedAt, attempts: attempt, documentStatus: status, error: error.toInfo() });
        log.warn('document failed', { code: error.code, error: error.message, attempt });
        throw new UnrecoverableError(`${error.code}: ${error.message}`);
      }
      await store.recordStep(batchId, documentId, step, { status: 'queued', startedAt, attempts: attempt });
      log.warn('step failed, will retry', { code: error.code, error: error.message, attempt, attempts });
      throw error;
    }
  }

  const worker = new Worker(
    queueName(step),
    async (job: Job) => {
      counts.active++;
      try {
        const value = await run(job);
        counts.processed++;
        return value;
      } catch (err) {
        counts.failed++;
        throw err;
      } finally {
        counts.active--;
      }
    },
    { connection, prefix, concurrency: options.concurrency },
  );
  worker.on('error', (err) => logger.error('worker error', { error: err.message }));
  // A job whose worker died is failed by BullMQ's stall check, outside `run`: record it here.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled/i.test(err.message)) return;
    const payload = stepPayloadSchema.safeParse(job.data);
    if (!payload.success) return;
    void store
      .recordStep(payload.data.batchId, payload.data.documentId, step, {
        status: 'failed',
        startedAt: job.processedOn ?? Date.now(),
        attempts: job.attemptsMade,
        documentStatus: 'failed',
        error: { code: 'internal', message: 'the worker processing this document stopped' },
      })
      .catch(() => undefined);
  });

  const heartbeat = new Heartbeat(connection, prefix, options.heartbeatMs ?? 5000, () => ({
    id,
    step,
    concurrency: options.concurrency,
    ...counts,
  }));
  heartbeat.start();

  return {
    id,
    worker,
    async close() {
      await worker.close();
      await queues.close();
      await heartbeat.stop();
      await recordsConnection.quit();
    },
  };
}
