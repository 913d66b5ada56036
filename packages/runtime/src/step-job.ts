import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'winston';
import {
  CancelledError,
  FINAL_TASK_STATUSES,
  PAGED_STEPS,
  StepTimeoutError,
  stepPayloadSchema,
  stepsBefore,
  toDocumentError,
  type DocumentError,
  type StepName,
  type StepPayload,
  type StepResults,
} from '@docproc/catalog';
import {
  completeStep,
  deadLetter,
  handPagesOn,
  nextStep,
  readStepResult,
  writeStepResult,
  type BatchStore,
  type StepQueues,
  type TaskOutcome,
  type TaskSpan,
} from '@docproc/batches';
import { blobKeys, type BlobStore } from '@docproc/storage';
import { pagedRunner } from './paged-step';
import { untilStopped } from './stoppable';
import type { PageWork, StepContext, StepProcessor } from './step-context';

/** What runStepJob needs of a BullMQ job (a plain object does in tests). */
export interface TaskJob {
  id?: string;
  data: unknown;
  attemptsMade: number;
  opts: { attempts?: number; priority?: number; delay?: number };
  /** When the task was added, and when this attempt was taken (epoch ms; BullMQ sets both). */
  timestamp?: number;
  processedOn?: number;
  updateProgress(percent: number): Promise<unknown>;
}

/** When the task became ready to run: added, plus any delay it was added with. */
export const queuedAt = (job: Pick<TaskJob, 'timestamp' | 'opts'>) => (job.timestamp ?? Date.now()) + (job.opts.delay ?? 0);

export interface StepJobDeps<S extends StepName> {
  step: S;
  processor: StepProcessor<S>;
  /** For a paged step: how to run one page and combine them. */
  pages?: PageWork<S>;
  store: BatchStore;
  queues: StepQueues;
  blobs: BlobStore;
  logger: Logger;
  /** Who runs the task, for the error history: "<step>-<id> pid <pid> on <host>". */
  workerName: string;
  /** The step's time limit per task (ms), unless the job's options.timeouts says otherwise. */
  timeoutMs: number;
}

/** The small value a task returns (kept by BullMQ): the blob key of a large result, null when it is inline or there is none. */
export interface StepJobReturn {
  resultKey: string | null;
}

const statusOfError = (code: string): 'cancelled' | 'timeout' | 'failed' =>
  code === 'cancelled' ? 'cancelled' : code === 'timeout' ? 'timeout' : 'failed';

/**
 * Runs one task of a step and keeps the records true around the processor:
 * records the start (the batch is `running` from its first task), skips a task
 * whose document already ended, enforces the step's time limit and the
 * cancel, stores the result (small inline, large in the blob store), records
 * the step in one call, and queues what comes next. A failure is kept in the
 * document's error history; bad input is not retried (UnrecoverableError), a
 * passing failure is retried with backoff and, once out of attempts, recorded
 * and dead-lettered.
 */
export async function runStepJob<S extends StepName>(job: TaskJob, deps: StepJobDeps<S>, cancelSignal?: AbortSignal): Promise<StepJobReturn> {
  const { step, store, queues, blobs, logger } = deps;
  const parsed = stepPayloadSchema.safeParse(job.data);
  if (!parsed.success) {
    logger.error('invalid task payload', { taskId: job.id, issues: parsed.error.issues.map((i) => i.path.join('.')) });
    throw new UnrecoverableError('invalid task payload');
  }
  const payload = parsed.data;
  const { batchId, documentId } = payload;
  const page = payload.page?.index;
  const log = logger.child({ batchId, documentId, taskId: job.id, step, ...(page === undefined ? {} : { page }) });
  const attempt = job.attemptsMade + 1;

  const started = await store.stepStarted(batchId, documentId, step, { page, attempt, worker: deps.workerName, queuedAt: queuedAt(job) });
  if (started.documentStatus === null || FINAL_TASK_STATUSES.includes(started.documentStatus)) {
    if (logger.isDebugEnabled()) log.debug('document already ended: task skipped', { status: started.documentStatus });
    return { resultKey: null };
  }

  const limitMs = payload.options.timeouts?.[step] ?? deps.timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const where = page === undefined ? '' : ` (page ${page + 1})`;
    controller.abort(new StepTimeoutError(`the ${step} step took longer than its limit of ${limitMs} ms${where}`));
  }, limitMs);
  const onCancel = () => controller.abort(new CancelledError());
  cancelSignal?.addEventListener('abort', onCancel, { once: true });
  if (cancelSignal?.aborted) onCancel();
  const startedAt = job.processedOn ?? Date.now();
  const ctx = stepContext(job, deps, payload, log, controller.signal);

  try {
    const result = await untilStopped(produce(ctx, deps, payload), { signal: controller.signal });
    await store.taskEnded(taskSpan(job, deps, payload, startedAt, 'completed', payload.page ? 1 : ctx.handedOn));
    if (result === undefined) return { resultKey: null }; // a page done, others still to come
    const stored = await writeStepResult(blobs, payload, step, result);
    const needsReview = step === 'validate' && (result as StepResults['validate']).status === 'needs_review';
    const batchStatus = await completeStep(
      store,
      queues,
      payload,
      { attempts: attempt, stored, handedOn: ctx.handedOn, needsReview },
      job.opts.priority,
    );
    if (batchStatus === 'cancelled') log.info('batch cancelled: the document stops here');
    // The combined result is recorded: the per-page results it was made from are not needed any more.
    if (PAGED_STEPS.includes(step) && (payload.page || payload.combine)) {
      await blobs.deletePrefix(blobKeys.pageResults(batchId, documentId, step)).catch(() => undefined);
    }
    if (logger.isDebugEnabled()) log.debug('step completed', { ms: Date.now() - startedAt });
    return { resultKey: stored.resultKey ?? null };
  } catch (thrown) {
    const error = toDocumentError(controller.signal.aborted ? controller.signal.reason : thrown);
    await recordFailure(job, deps, payload, error, attempt, startedAt, log);
    throw error.permanent || attempt >= (job.opts.attempts ?? 1) ? new UnrecoverableError(`${error.code}: ${error.message}`) : error;
  } finally {
    clearTimeout(timer);
    cancelSignal?.removeEventListener('abort', onCancel);
  }
}

/** The step's result: the processor's, or for a paged step the page's (undefined until the last) or the pages put together. */
async function produce<S extends StepName>(
  ctx: StepContext & { handedOn: number },
  deps: StepJobDeps<S>,
  payload: StepPayload,
): Promise<StepResults[S] | undefined> {
  if (!payload.page && !payload.combine) return deps.processor(ctx);
  if (!deps.pages) throw new UnrecoverableError(`the ${deps.step} step does not run page by page`);
  const paged = pagedRunner({ step: deps.step, store: deps.store, blobs: deps.blobs, work: deps.pages });
  return payload.page ? paged.runPage(ctx, payload.page) : paged.combine(ctx, payload.combine!.count);
}

/** The context a processor gets; `handedOn` counts the pages it handed on to a paged next step. */
function stepContext<S extends StepName>(
  job: TaskJob,
  deps: StepJobDeps<S>,
  payload: StepPayload,
  logger: Logger,
  signal: AbortSignal,
): StepContext & { handedOn: number } {
  const { store, queues, blobs } = deps;
  const next = nextStep(payload);
  const streams = next !== undefined && PAGED_STEPS.includes(next) && payload.page === undefined;
  const earlier = stepsBefore(payload.pipeline, payload.step);
  const ctx = {
    payload,
    blobs,
    logger,
    signal,
    handedOn: 0,
    async resultOf<E extends StepName>(step: E): Promise<StepResults[E] | undefined> {
      if (!earlier.includes(step)) return undefined;
      const result = await readStepResult<E>(blobs, await store.stepResult(payload.documentId, step));
      if (result === undefined) throw new Error(`the ${step} result of document ${payload.documentId} is missing`);
      return result;
    },
    progress: async (percent: number) => void (await job.updateProgress(percent)),
    async pageReady(page: StepResults['preprocess']['pages'][number], count: number) {
      signal.throwIfAborted();
      if (!streams) return;
      if (ctx.handedOn === 0) await store.setPageCount(payload.documentId, next, count); // once: cancelling and retrying read it
      await handPagesOn(queues, payload, [page], count, job.opts.priority);
      ctx.handedOn = count;
    },
  };
  return ctx;
}

/** This attempt of the task as it ends now: counted, and drawn on the batch's timeline. */
function taskSpan<S extends StepName>(
  job: TaskJob,
  deps: StepJobDeps<S>,
  payload: StepPayload,
  startedAt: number,
  outcome: TaskOutcome,
  pages?: number,
): TaskSpan {
  return {
    batchId: payload.batchId,
    documentId: payload.documentId,
    step: deps.step,
    page: payload.page?.index,
    attempt: job.attemptsMade + 1,
    worker: deps.workerName,
    queuedAt: queuedAt(job),
    startedAt,
    endedAt: Date.now(),
    outcome,
    pages,
  };
}

/**
 * Keeps a failed attempt in the error history and records the step: final
 * (bad input, cancel, time limit, or no attempts left: then dead-lettered too)
 * or to be retried.
 */
async function recordFailure<S extends StepName>(
  job: TaskJob,
  deps: StepJobDeps<S>,
  payload: StepPayload,
  error: DocumentError,
  attempt: number,
  startedAt: number,
  log: Logger,
): Promise<void> {
  const { step, store, queues } = deps;
  const { batchId, documentId } = payload;
  const page = payload.page?.index ?? null;
  const attempts = job.opts.attempts ?? 1;
  const now = new Date().toISOString();
  if (error.code !== 'cancelled') {
    await store.addFailedAttempt(documentId, {
      step,
      page,
      attempt,
      code: error.code,
      message: error.message,
      worker: deps.workerName,
      startedAt: new Date(startedAt).toISOString(),
      failedAt: now,
    });
  }
  if (!error.permanent && attempt < attempts) {
    await store.taskEnded(taskSpan(job, deps, payload, startedAt, 'retried'));
    await store.recordStep(batchId, documentId, step, { status: 'queued', attempts: attempt });
    log.warn('task failed, will retry', { code: error.code, error: error.message, attempt, attempts });
    return;
  }
  const status = statusOfError(error.code);
  await store.taskEnded(taskSpan(job, deps, payload, startedAt, status));
  await store.recordStep(batchId, documentId, step, { status, attempts: attempt, documentStatus: status, error: error.toInfo() });
  if (!error.permanent) {
    await deadLetter(store, queues, payload, job.id);
  }
  if (error.code === 'cancelled') log.info('task stopped: its batch was cancelled');
  else log.warn('document failed', { code: error.code, error: error.message, attempt });
}
