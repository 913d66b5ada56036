import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import {
  CancelledError,
  queueName,
  stepPayloadSchema,
  stepResultSchemas,
  stepsBefore,
  toDocumentError,
  type StepName,
  type StepPayload,
  type StepResults,
  type TaskStatus,
} from '@docproc/catalog';
import { BatchStore } from '@docproc/batches';
import { blobKeys, getJson, putJson, type BlobStore } from '@docproc/storage';
import { Heartbeat } from './heartbeat';

/** What a step's processor gets: its payload, the earlier steps' results, and where to put bytes. */
export interface StepContext {
  payload: StepPayload;
  previous: Partial<StepResults>;
  blobs: BlobStore;
  logger: Logger;
  /** Reports progress (0-100) to BullMQ, for Bull Board and job progress. */
  progress(percent: number): Promise<void>;
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
}

export interface StepWorker {
  readonly id: string;
  readonly worker: Worker;
  /** Stops taking jobs, waits for the running ones, and says goodbye. */
  close(): Promise<void>;
}

/** The small value a step job returns (kept in Redis); the result itself is in the blob store. */
export interface StepJobReturn {
  resultKey: string;
}

async function loadPrevious(blobs: BlobStore, payload: StepPayload): Promise<Partial<StepResults>> {
  const previous: Partial<StepResults> = {};
  const earlier = stepsBefore(payload.pipeline, payload.step);
  const loaded = await Promise.all(earlier.map((step) => getJson(blobs, blobKeys.result(payload.batchId, payload.documentId, step))));
  earlier.forEach((step, i) => {
    (previous as Record<string, unknown>)[step] = loaded[i];
  });
  return previous;
}

const statusOfError = (code: string): TaskStatus => (code === 'cancelled' ? 'cancelled' : code === 'timeout' ? 'timeout' : 'failed');

/**
 * Runs one step's processor on its queue. Around the processor it keeps the
 * records true: it refuses work of a cancelled batch, stores the result in
 * the blob store, and records a document's failure once retries are over
 * (bad input is not retried: UnrecoverableError).
 */
export function startStepWorker<S extends StepName>(options: StepWorkerOptions<S>): StepWorker {
  const { step, processor, connection, prefix, blobs, logger } = options;
  const store = new BatchStore(connection, prefix);
  const id = `${step}-${randomUUID().slice(0, 8)}`;
  const counts = { processed: 0, failed: 0, active: 0 };

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

    try {
      if (!(await store.stepStarted(batchId, documentId, step))) throw new CancelledError();
      const started = Date.now();
      const previous = await loadPrevious(blobs, payload);
      const result = stepResultSchemas[step].parse(
        await processor({ payload, previous, blobs, logger: log, progress: (p) => job.updateProgress(p) }),
      );
      const resultKey = blobKeys.result(batchId, documentId, step);
      await putJson(blobs, resultKey, result);
      await store.stepFinished(batchId, documentId, step, 'completed', isLastStep ? 'completed' : undefined);
      log.debug('step completed', { ms: Date.now() - started });
      return { resultKey };
    } catch (thrown) {
      const error = toDocumentError(thrown);
      const attempts = job.opts.attempts ?? 1;
      const lastAttempt = error.permanent || job.attemptsMade + 1 >= attempts;
      if (lastAttempt) {
        const status = statusOfError(error.code);
        await store.stepFinished(batchId, documentId, step, status, status, error.toInfo());
        log.warn('document failed', { code: error.code, error: error.message, attempt: job.attemptsMade + 1 });
        throw new UnrecoverableError(`${error.code}: ${error.message}`);
      }
      await store.stepFinished(batchId, documentId, step, 'queued');
      log.warn('step failed, will retry', { code: error.code, error: error.message, attempt: job.attemptsMade + 1, attempts });
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
      .stepFinished(payload.data.batchId, payload.data.documentId, step, 'failed', 'failed', {
        code: 'internal',
        message: 'the worker processing this document stopped',
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
      await heartbeat.stop();
    },
  };
}
