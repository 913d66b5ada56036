import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'winston';
import {
  CancelledError,
  awaitsReview,
  PAGED_STEPS,
  StepTimeoutError,
  stepPayloadSchema,
  stepsBefore,
  toDocumentError,
  type StepName,
  type StepPayload,
  type StepResults,
} from '@docproc/catalog';
import { TaskLostError, handPagesOn, nextStep, readStepResult, writeStepResult, type TaskLedger, type TaskRun } from '@docproc/batches';
import { blobKeys, type BlobStore } from '@docproc/storage';
import { pagedRunner } from './paged-step';
import { ShortageError, shortageOf } from './shortage';
import { untilStopped } from './stoppable';
import type { PageWork, StepContext, StepProcessor } from './step-context';

/** What runTask needs of a BullMQ job (a plain object does in tests). */
export interface BullTask {
  id?: string;
  data: unknown;
  attemptsMade: number;
  opts: { attempts?: number; priority?: number; delay?: number };
  /** When the task was added, and when this attempt was taken (epoch ms; BullMQ sets both). */
  timestamp?: number;
  processedOn?: number;
  /** The token of the lock this run holds (BullMQ sets it when the task is taken). */
  token?: string;
  updateProgress(percent: number): Promise<unknown>;
}

/** When the task became ready to run: added, plus any delay it was added with. */
const queuedAt = (job: Pick<BullTask, 'timestamp' | 'opts'>) => (job.timestamp ?? Date.now()) + (job.opts.delay ?? 0);

export interface TaskDeps<S extends StepName> {
  step: S;
  processor: StepProcessor<S>;
  /** For a paged step: how to run one page and combine them. */
  pages?: PageWork<S>;
  ledger: TaskLedger;
  blobs: BlobStore;
  logger: Logger;
  /** Who runs the task, for the error history: "<step>-<id> pid <pid> on <host>". */
  workerName: string;
  /** The step's time limit per task (ms), unless the job's options.timeouts says otherwise. */
  timeoutMs: number;
  /** A task's start is recorded once it ran this long, or with its end if that comes sooner (0, or a page task: at once). */
  startRecordMs: number;
}

/** The small value a task returns (kept by BullMQ): the blob key of a large result, null when it is inline or there is none. */
export interface TaskReturn {
  resultKey: string | null;
}

/** The reason a worker stops a run that lost its task's lock (BullMQ's cancel takes a string). */
export const LOCK_LOST = 'lock lost';

/** A run whose start, recorded late, found its document ended (cancelled, failed): it stops and records nothing. */
class DocumentEndedError extends Error {}

/** The run of a task as the ledger records it. */
export function taskRun(job: BullTask, payload: StepPayload, worker: string): TaskRun {
  return {
    payload,
    taskId: job.id ?? '',
    attempt: job.attemptsMade + 1,
    attempts: job.opts.attempts ?? 1,
    queuePriority: job.opts.priority,
    worker,
    queuedAt: queuedAt(job),
    startedAt: job.processedOn ?? Date.now(),
    lockToken: job.token,
  };
}

/**
 * Runs one task of a step around the processor, recording each turn of its life in the
 * ledger: the start (a task whose document already ended is skipped), the step's time
 * limit and the cancel, the result stored (small inline, large in the blob store) and the
 * step completed, or the failure (retried with backoff while attempts last; bad input is
 * not retried: UnrecoverableError). A full platform (Redis out of memory, the disk full) is
 * no failure of the document: ShortageError, and the worker puts the task back. A run that lost its task (`lost` aborts, or the
 * ledger refuses its record) stops at once and records nothing.
 */
export async function runTask<S extends StepName>(job: BullTask, deps: TaskDeps<S>, stopSignal?: AbortSignal): Promise<TaskReturn> {
  const { step, ledger, blobs, logger } = deps;
  const parsed = stepPayloadSchema.safeParse(job.data);
  if (!parsed.success) {
    logger.error('invalid task payload', { taskId: job.id, issues: parsed.error.issues.map((i) => i.path.join('.')) });
    throw new UnrecoverableError('invalid task payload');
  }
  const payload = parsed.data;
  const { batchId, documentId } = payload;
  const page = payload.page?.index;
  const log = logger.child({ batchId, documentId, taskId: job.id, step, ...(page === undefined ? {} : { page }) });
  const run = taskRun(job, payload, deps.workerName);

  const skipped = () => {
    if (logger.isDebugEnabled()) log.debug('document already ended: task skipped');
    return { resultKey: null };
  };
  // A short task's start goes with its end (one Redis call); a page task's at once (the step's pages count on it).
  const deferStart = deps.startRecordMs > 0 && payload.page === undefined;
  if (!deferStart && !(await ledger.started(run))) return skipped();

  const limitMs = payload.options.timeouts?.[step] ?? deps.timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const where = page === undefined ? '' : ` (page ${page + 1})`;
    controller.abort(new StepTimeoutError(`the ${step} step took longer than its limit of ${limitMs} ms${where}`));
  }, limitMs);
  let startRecord: Promise<boolean> | undefined;
  const startTimer = deferStart
    ? setTimeout(() => {
        startRecord = ledger.started(run);
        startRecord.then(
          (going) => going || controller.abort(new DocumentEndedError()),
          () => undefined,
        );
      }, deps.startRecordMs)
    : undefined;
  /** Before the run's end is recorded: false when its start found the document ended; if it was not recorded yet, the end records it. */
  const startSettled = async (): Promise<boolean> => {
    clearTimeout(startTimer);
    if (startRecord) return startRecord;
    if (deferStart) run.startWithEnd = true;
    return true;
  };
  // The worker stops a run when its batch is cancelled, or when the run lost its task.
  const onStop = () => controller.abort(stopSignal?.reason === LOCK_LOST ? new TaskLostError(run.taskId) : new CancelledError());
  stopSignal?.addEventListener('abort', onStop, { once: true });
  if (stopSignal?.aborted) onStop();
  const ctx = stepContext(job, deps, payload, log, controller.signal);

  try {
    const result = await untilStopped(produce(ctx, deps, run), { signal: controller.signal });
    if (result === undefined) return { resultKey: null }; // a page done, others still to come
    if (!(await startSettled())) return skipped();
    const stored = await writeStepResult(blobs, payload, step, result);
    const batchStatus = await ledger.completed(run, { stored, handedOn: ctx.handedOn, needsReview: awaitsReview(step, result) });
    if (batchStatus === 'ended') return skipped();
    if (batchStatus === 'cancelled') log.info('batch cancelled: the document stops here');
    // The combined result is recorded: the per-page results it was made from are not needed any more.
    if (PAGED_STEPS.includes(step) && (payload.page || payload.combine)) {
      await blobs.deletePrefix(blobKeys.pageResults(batchId, documentId, step)).catch(() => undefined);
    }
    if (logger.isDebugEnabled()) log.debug('step completed', { ms: Date.now() - run.startedAt });
    return { resultKey: stored.resultKey ?? null };
  } catch (thrown) {
    const reason = controller.signal.aborted ? controller.signal.reason : thrown;
    if (reason instanceof DocumentEndedError) return skipped();
    if (reason instanceof TaskLostError || thrown instanceof TaskLostError) {
      log.warn('task lost: another run has it, this one stops and records nothing');
      throw reason;
    }
    const shortage = shortageOf(reason) ?? shortageOf(thrown);
    if (shortage) {
      // Nothing is recorded (a full Redis could not take it anyway): the worker puts the task back.
      log.warn('the platform is out of space: the task waits, its attempt unspent', { shortage, error: (reason as Error)?.message });
      throw new ShortageError(shortage, reason);
    }
    const error = toDocumentError(reason);
    if (!(await startSettled().catch(() => true))) return skipped();
    const next = await ledger.failed(run, error);
    if (next === 'ended') return skipped();
    if (next === 'retry')
      log.warn('task failed, will retry', { code: error.code, error: error.message, attempt: run.attempt, attempts: run.attempts });
    else if (error.code === 'cancelled') log.info('task stopped: its batch was cancelled');
    else log.warn('document failed', { code: error.code, error: error.message, attempt: run.attempt });
    throw next === 'final' ? new UnrecoverableError(`${error.code}: ${error.message}`) : error;
  } finally {
    clearTimeout(timer);
    clearTimeout(startTimer);
    stopSignal?.removeEventListener('abort', onStop);
  }
}

/** The step's result: the processor's, or for a paged step the page's (undefined until the last) or the pages put together. */
async function produce<S extends StepName>(
  ctx: StepContext & { handedOn: number },
  deps: TaskDeps<S>,
  run: TaskRun,
): Promise<StepResults[S] | undefined> {
  const { payload } = run;
  if (!payload.page && !payload.combine) return deps.processor(ctx);
  if (!deps.pages) throw new UnrecoverableError(`the ${deps.step} step does not run page by page`);
  const paged = pagedRunner({ step: deps.step, ledger: deps.ledger, blobs: deps.blobs, work: deps.pages });
  return payload.page ? paged.runPage(ctx, run, payload.page) : paged.combine(ctx, payload.combine!.count);
}

/** The context a processor gets; `handedOn` counts the pages it handed on to a paged next step. */
function stepContext<S extends StepName>(
  job: BullTask,
  deps: TaskDeps<S>,
  payload: StepPayload,
  logger: Logger,
  signal: AbortSignal,
): StepContext & { handedOn: number } {
  const { ledger, blobs } = deps;
  const { store, queues } = ledger;
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
