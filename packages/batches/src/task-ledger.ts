import {
  FINAL_TASK_STATUSES,
  type BatchStatus,
  type CrashCause,
  type DeadLetter,
  type DocumentError,
  type DocumentErrorInfo,
  type FailedAttempt,
  type StepName,
  type StepPayload,
  type TaskStatus,
} from '@docproc/catalog';
import type { BatchStore } from './batch-store';
import { nextStep, queueCombine, queueNextStep, taskIdOf, type StepQueues } from './chain';
import { taskCounterFields, type TaskOutcome } from './counters';
import { CRASH_CEILING_FACTOR, chargedCrashes, isCharged } from './crash-charges';
import { PAGE_DONE, RECORD_STEP, RELEASE_TASKS, STEP_STARTED } from './scripts';
import type { StoredResult } from './step-results';
import type { RedisClient } from './redis-client';

/** One run of a task: what it is, who runs it, and the lock it holds. */
export interface TaskRun {
  payload: StepPayload;
  /** BullMQ's id of the task. */
  taskId: string;
  /** This attempt (1-based), and how many the task may have. */
  attempt: number;
  attempts: number;
  /** The BullMQ priority the task ran with: what comes next gets the same. */
  queuePriority?: number;
  /** Who runs it: "<step>-<id> pid <pid> on <host>". */
  worker: string;
  /** When the task became ready to run, and when this run took it (epoch ms). */
  queuedAt: number;
  startedAt: number;
  /** The token of the task's BullMQ lock this run holds: a record made after the lock was lost is refused. */
  lockToken?: string;
  /** The run ended before its start was recorded: its end record records the start too (see RECORD_STEP). */
  startWithEnd?: boolean;
}

/** A run whose task was handed to another (its lock was taken away): it must stop and write nothing. */
export class TaskLostError extends Error {
  constructor(taskId: string) {
    super(`task ${taskId} was handed to another run: this run stops and records nothing`);
    this.name = 'TaskLostError';
  }
}

/** How a worker that held tasks was seen to end. */
export interface WorkerEnd {
  cause: CrashCause;
  /** How it was seen, in words: "exit by SIGABRT", "no heartbeat for 6 s". */
  detail: string;
}

/** What the progress report of a page learns. */
export interface PageProgress {
  done: number;
  documentStatus: TaskStatus | null;
  /** The paged step's own status: 'completed' once its pages were put together. */
  stepStatus: TaskStatus | null;
  /** The status of the step before (whose pages these are); 'completed' when there is none. */
  previousStepStatus: TaskStatus | null;
}

/** How a record changes a step (see RECORD_STEP). */
export interface StepOutcome {
  status: TaskStatus;
  /** ms since the epoch; undefined keeps the start recorded when the step started. */
  startedAt?: number;
  attempts: number;
  /** Set when the document is done: its last step completed, or it failed. */
  documentStatus?: TaskStatus;
  error?: DocumentErrorInfo;
  resultJson?: string;
  resultKey?: string;
  /** The paged step after this one, whose done pages the call reports. */
  nextPagedStep?: StepName;
  /** The document now waits for a person's review (validation said needs_review). */
  needsReview?: boolean;
}

interface LedgerCommands {
  docprocStepStarted(batch: string, doc: string, events: string, ...args: string[]): Promise<[string, string]>;
  docprocRecordStep(...keysAndArgs: string[]): Promise<[string, number, number?]>;
  docprocPageDone(...keysAndArgs: string[]): Promise<[number, string, string, string]>;
  docprocReleaseTasks(active: string, stalled: string, released: string, queueKeys: string, workerId: string): Promise<string[]>;
}

const statusOfError = (code: string): 'cancelled' | 'timeout' | 'failed' =>
  code === 'cancelled' ? 'cancelled' : code === 'timeout' ? 'timeout' : 'failed';

/**
 * A task's life, in one place: it starts, reads pages, completes, fails, or loses its
 * worker. Each transition is one atomic Redis call that records the step, the error
 * history, the counters and the events, refuses a run that lost its task's lock, and
 * then queues what comes next (the next step, the task combining pages, a dead letter),
 * so no path can leave a document `running` with nothing behind it. The records of
 * batches (creation, listing, cancel, retry, reviews) stay in BatchStore.
 */
export class TaskLedger {
  private readonly redis: RedisClient & LedgerCommands;

  constructor(
    readonly store: BatchStore,
    readonly queues: StepQueues,
  ) {
    const redis = store.connection;
    this.redis = redis as RedisClient & LedgerCommands;
    if (!('docprocReleaseTasks' in redis)) {
      redis.defineCommand('docprocStepStarted', { numberOfKeys: 3, lua: STEP_STARTED });
      redis.defineCommand('docprocRecordStep', { numberOfKeys: 9, lua: RECORD_STEP });
      redis.defineCommand('docprocPageDone', { numberOfKeys: 5, lua: PAGE_DONE });
      redis.defineCommand('docprocReleaseTasks', { numberOfKeys: 3, lua: RELEASE_TASKS });
    }
  }

  private get keys() {
    return this.store.keys;
  }

  /** A run starts: the step (and document, and batch) are running. False when the document already ended: skip the task. */
  async started(run: TaskRun): Promise<boolean> {
    const { batchId, documentId, step } = run.payload;
    const [, documentStatus] = await this.redis.docprocStepStarted(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      this.keys.events(batchId),
      step,
      String(Date.now()),
      run.payload.page === undefined ? '' : String(run.payload.page.index),
      String(run.attempt),
      String(this.store.maxEvents),
      run.worker,
      String(run.queuedAt),
      documentId,
    );
    return documentStatus !== '' && !FINAL_TASK_STATUSES.includes(documentStatus as TaskStatus);
  }

  /** A page task read its page: counted once (however often reported), with its span. */
  async pageDone(run: TaskRun): Promise<PageProgress> {
    const { batchId, documentId, step, pipeline, page } = run.payload;
    if (!page) throw new Error('pageDone is for page tasks');
    const previous = pipeline[pipeline.indexOf(step) - 1];
    const [done, documentStatus, stepStatus, previousStepStatus] = await this.redis.docprocPageDone(
      this.keys.document(documentId),
      this.keys.donePages(documentId, step),
      this.keys.events(batchId),
      this.keys.taskLock(step, run.taskId),
      this.keys.counters,
      String(page.index),
      step,
      previous ?? '',
      String(this.store.maxEvents),
      String(page.count),
      String(Date.now()),
      run.lockToken ?? '',
      documentId,
      ...spanArgs(run, 'completed', 1),
    );
    if (Number(done) === -1) throw new TaskLostError(run.taskId);
    return {
      done: Number(done),
      documentStatus: (documentStatus || null) as TaskStatus | null,
      stepStatus: (stepStatus || null) as TaskStatus | null,
      previousStepStatus: (previousStepStatus || null) as TaskStatus | null,
    };
  }

  /**
   * A run completed its step (for a paged step: put the pages together): the step and
   * its stored result are recorded, and the document moves on — the next step's task,
   * or, when this step handed `handedOn` pages to a paged next step and all were read
   * before this record, the task that puts them together (else the last page's task
   * does). Nothing moves on in a cancelled batch. Returns the batch status, or 'ended' when
   * the start recorded with this end found the document ended (nothing was written).
   */
  async completed(run: TaskRun, outcome: { stored: StoredResult; handedOn: number; needsReview?: boolean }): Promise<BatchStatus | 'ended'> {
    const { payload } = run;
    const next = nextStep(payload);
    // A page task's span went with its page (pageDone); any other run's goes with this record.
    const span = payload.page ? NO_SPAN : spanArgs(run, 'completed', payload.combine ? undefined : outcome.handedOn);
    const { batchStatus, nextPagesDone } = await this.record(
      payload,
      {
        status: 'completed',
        attempts: run.attempt,
        needsReview: outcome.needsReview,
        documentStatus: next === undefined ? 'completed' : undefined,
        nextPagedStep: outcome.handedOn > 0 ? next : undefined,
        ...outcome.stored,
      },
      { run, span },
    );
    if (batchStatus === 'ended' || batchStatus === 'cancelled' || next === undefined) return batchStatus;
    if (outcome.handedOn === 0) await queueNextStep(this.queues, payload, run.queuePriority);
    else if (nextPagesDone >= outcome.handedOn) await queueCombine(this.queues, payload, next, outcome.handedOn, run.queuePriority);
    return batchStatus;
  }

  /**
   * A run failed: kept in the error history (a cancel is not a failure) and recorded as
   * to be retried, or final — bad input, cancel, time limit, or no attempts left, when
   * the task is dead-lettered too. Returns whether it runs again — or 'ended' when the start
   * recorded with this end found the document ended (nothing was written).
   */
  async failed(run: TaskRun, error: DocumentError): Promise<'retry' | 'final' | 'ended'> {
    const { payload } = run;
    const history =
      error.code === 'cancelled'
        ? undefined
        : ({
            step: payload.step,
            page: payload.page?.index ?? null,
            attempt: run.attempt,
            code: error.code,
            message: error.message,
            worker: run.worker,
            startedAt: new Date(run.startedAt).toISOString(),
            failedAt: new Date().toISOString(),
          } satisfies FailedAttempt);
    if (!error.permanent && run.attempt < run.attempts) {
      const { batchStatus } = await this.record(
        payload,
        { status: 'queued', attempts: run.attempt },
        { run, span: spanArgs(run, 'retried'), history },
      );
      return batchStatus === 'ended' ? 'ended' : 'retry';
    }
    const status = statusOfError(error.code);
    const { batchStatus } = await this.record(
      payload,
      { status, attempts: run.attempt, documentStatus: status, error: error.toInfo() },
      { run, span: spanArgs(run, status), history },
    );
    if (batchStatus === 'ended') return 'ended';
    if (!error.permanent) await this.deadLetter(payload, run.taskId);
    return 'final';
  }

  /**
   * A run ended unseen: its worker is gone (or, alive, let the lock run out). The crash is
   * kept in the history once, with the worker and how it ended; it counts against the
   * document only when the document can be the cause (see crash-charges.ts). The task
   * runs again, unless the document has now crashed its worker `maxCrashes` times — or
   * lost one `maxCrashes` × CRASH_CEILING_FACTOR times, whatever the causes — when it
   * fails worker_crashed and is dead-lettered. Returns whether it failed.
   */
  async crashed(
    run: Omit<TaskRun, 'lockToken' | 'attempts'>,
    end: WorkerEnd & { neighbours: string[] },
    maxCrashes: number,
  ): Promise<'again' | 'failed'> {
    const { payload } = run;
    const page = payload.page?.index ?? null;
    const earlier = (await this.store.failedAttempts(payload.documentId)).filter(
      (a) => a.step === payload.step && a.page === page && a.code === 'worker_crashed',
    );
    const crash: FailedAttempt = {
      step: payload.step,
      page,
      attempt: run.attempt,
      code: 'worker_crashed',
      message: '',
      worker: run.worker,
      startedAt: new Date(run.startedAt).toISOString(),
      failedAt: new Date().toISOString(),
      cause: end.cause,
      neighbours: end.neighbours,
    };
    const all = [...earlier, crash];
    crash.charged = isCharged(crash, all);
    const charged = chargedCrashes(all);
    const failing = charged >= maxCrashes || all.length >= maxCrashes * CRASH_CEILING_FACTOR;
    const beside = end.neighbours.length === 0 ? 'alone' : `beside ${end.neighbours.length} other task(s)`;
    crash.message = `its worker stopped (${end.detail}) while it ran this task ${beside}; ${
      crash.charged ? 'counted against the document' : 'not counted against the document'
    }${failing ? '' : '; it runs again'}`;
    const where = page === null ? '' : ` on page ${page + 1}`;
    const error = {
      code: 'worker_crashed' as const,
      message:
        charged >= maxCrashes
          ? `the ${payload.step} step stopped its worker ${charged} times${where}: the document seems to crash the engine`
          : `the ${payload.step} step lost its worker ${all.length} times${where}: it is not tried again`,
    };
    const span = spanArgs(run, 'crashed', undefined, end.cause);
    if (!failing) {
      await this.record(payload, { status: 'queued', attempts: run.attempt }, { span, history: crash });
      return 'again';
    }
    await this.record(payload, { status: 'failed', attempts: run.attempt, documentStatus: 'failed', error }, { span, history: crash });
    await this.deadLetter(payload, taskIdOf(payload.documentId, payload.step, payload.page?.index));
    return 'failed';
  }

  /**
   * Takes away the locks of the tasks a gone worker (BullMQ id `bullWorkerId`) held on
   * `step`'s queue, so BullMQ's stalled check queues them again at once instead of when the
   * lock runs out. Returns the task ids released; only one caller gets each.
   */
  async release(step: StepName, bullWorkerId: string): Promise<string[]> {
    const queueKeys = this.keys.queueKeys(step);
    return this.redis.docprocReleaseTasks(`${queueKeys}active`, `${queueKeys}stalled`, this.keys.released, queueKeys, bullWorkerId);
  }

  /** True once: when the task was released from a gone worker (its crash is recorded already). */
  async wasReleased(taskId: string): Promise<boolean> {
    return (await this.redis.srem(this.keys.released, taskId)) === 1;
  }

  /**
   * Records how a run of a step ended, in one call (see RECORD_STEP): with the run's lock
   * checked, its span and its history entry (and its start, when the run ended before that
   * was recorded). Throws TaskLostError when the lock is gone. Returns the batch status after
   * the change ('ended': the start recorded here found the document ended, nothing was
   * written) and the pages of the next paged step done.
   */
  async record(
    payload: Pick<StepPayload, 'batchId' | 'documentId' | 'step'>,
    outcome: StepOutcome,
    with_: { run?: Pick<TaskRun, 'taskId' | 'lockToken' | 'startWithEnd'>; span?: string[]; history?: FailedAttempt } = {},
  ): Promise<{ batchStatus: BatchStatus | 'ended'; nextPagesDone: number }> {
    const { batchId, documentId, step } = payload;
    const [batchStatus, nextPagesDone, ended] = await this.redis.docprocRecordStep(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      this.keys.events(batchId),
      this.keys.finished,
      this.keys.donePages(documentId, outcome.nextPagedStep ?? step),
      this.keys.counters,
      this.keys.reviews,
      with_.run ? this.keys.taskLock(step, with_.run.taskId) : this.keys.document(documentId),
      this.keys.failedAttempts(documentId),
      step,
      outcome.status,
      String(Date.now()),
      outcome.startedAt === undefined ? '' : String(outcome.startedAt),
      String(outcome.attempts),
      outcome.documentStatus ?? '',
      outcome.error ? JSON.stringify(outcome.error) : '',
      outcome.resultJson ?? '',
      outcome.resultKey ?? '',
      String(this.store.maxEvents),
      batchId,
      outcome.needsReview ? '1' : '',
      with_.run?.lockToken ?? '',
      with_.history ? JSON.stringify(with_.history) : '',
      documentId,
      outcome.nextPagedStep ? '1' : '',
      with_.run?.startWithEnd ? '1' : '',
      ...(with_.span ?? NO_SPAN),
    );
    if (batchStatus === 'lost') throw new TaskLostError(with_.run!.taskId);
    if (ended === 1) await this.store.noteBatchEnded(batchId);
    return { batchStatus: batchStatus as BatchStatus | 'ended', nextPagesDone: outcome.nextPagedStep ? Number(nextPagesDone) : 0 };
  }

  /**
   * Keeps a task that ran out of attempts (or crashed its worker too often) in the
   * dead-letter queue, with its error history: the document's failed attempts of that
   * step and page. An older letter of the task is replaced.
   */
  private async deadLetter(payload: StepPayload, taskId: string): Promise<void> {
    const { batchId, documentId, step } = payload;
    const page = payload.page?.index ?? null;
    const attempts = (await this.store.failedAttempts(documentId)).filter((a) => a.step === step && a.page === page);
    const letter: DeadLetter = { batchId, documentId, step, page, queue: step, taskId, payload, attempts, deadAt: new Date().toISOString() };
    const queue = this.queues.deadLetters();
    await queue.remove(letter.taskId).catch(() => 0);
    await queue.add(`${step}${page === null ? '' : ` page ${page + 1}`}`, letter, {
      jobId: letter.taskId,
      removeOnComplete: { age: this.queues.policy.retentionSeconds },
      removeOnFail: { age: this.queues.policy.retentionSeconds },
    });
    await this.store.countTask({ step, outcome: 'dead_lettered' });
  }
}

/** No span: the record is not a run's end (see the scripts' taskSpan). */
const NO_SPAN = [''];

/**
 * The span of a run as it ends now, as RECORD_STEP and PAGE_DONE take it (their taskSpan):
 * outcome, page, attempt, worker, queued, started, then its counter fields and increments.
 */
function spanArgs(run: Omit<TaskRun, 'attempts' | 'lockToken'>, outcome: TaskOutcome, pages?: number, cause?: CrashCause): string[] {
  // A crashed run's end is only when its loss was noticed: not a duration worth a histogram.
  const seconds = outcome === 'crashed' ? undefined : Math.max(0, Date.now() - run.startedAt) / 1000;
  const { payload } = run;
  return [
    outcome,
    payload.page === undefined ? '' : String(payload.page.index),
    String(run.attempt),
    run.worker,
    String(run.queuedAt),
    String(run.startedAt),
    ...taskCounterFields({ step: payload.step, outcome, seconds, pages, cause }).flat(),
  ];
}

/** A run that holds no BullMQ task (a benchmark or test playing a step itself): recorded the same, without a lock. */
export function directRun(payload: StepPayload, queuePriority?: number): TaskRun {
  const now = Date.now();
  return {
    payload,
    taskId: `${payload.documentId}.${payload.step}`,
    attempt: 1,
    attempts: 1,
    queuePriority,
    worker: 'direct',
    queuedAt: now,
    startedAt: now,
  };
}
