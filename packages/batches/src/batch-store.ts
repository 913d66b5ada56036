import type { Redis } from 'ioredis';
import {
  PAGED_STEPS,
  failedAttemptSchema,
  type BatchStatus,
  type DocumentErrorInfo,
  type FailedAttempt,
  type JobOptions,
  type StepName,
  type TaskStatus,
} from '@docproc/catalog';
import { recordKeys } from './keys';
import { CANCEL_BATCH, PAGE_DONE, RECORD_REVIEW, RECORD_STEP, REOPEN_DOCUMENTS, STEP_STARTED } from './scripts';
import { countTask, type TaskCount, type TaskOutcome } from './counters';
import { parseBatch, parseDocument, type BatchRecord, type DocumentRecord, type NewDocument, type ReviewDecision } from './records';

interface ScriptCommands {
  docprocStepStarted(batch: string, doc: string, events: string, ...args: string[]): Promise<[string, string]>;
  docprocRecordStep(
    batch: string,
    doc: string,
    events: string,
    finished: string,
    pages: string,
    counters: string,
    reviews: string,
    ...args: string[]
  ): Promise<[string, number, number?]>;
  docprocRecordReview(
    batch: string,
    doc: string,
    events: string,
    finished: string,
    counters: string,
    reviews: string,
    ...args: string[]
  ): Promise<[string, string, number]>;
  docprocPageDone(doc: string, pages: string, events: string, ...args: string[]): Promise<[number, string, string, string]>;
  docprocCancelBatch(
    batch: string,
    docs: string,
    events: string,
    finished: string,
    counters: string,
    reviews: string,
    ...args: string[]
  ): Promise<string>;
  docprocReopenDocuments(batch: string, events: string, finished: string, ...args: string[]): Promise<string[]>;
}

/** How one task of a step ended. */
export interface StepOutcome {
  status: TaskStatus;
  /** ms since the epoch; undefined keeps the start recorded when the step started. */
  startedAt?: number;
  attempts: number;
  /** Set when the document is done: its last step completed, or it failed. */
  documentStatus?: TaskStatus;
  error?: DocumentErrorInfo;
  /** The result as JSON when small enough to keep in Redis ... */
  resultJson?: string;
  /** ... else the blob key it was stored under. */
  resultKey?: string;
  /** The paged step after this one, whose done pages the call reports. */
  nextPagedStep?: StepName;
  /** The document now waits for a person's review (validation said needs_review). */
  needsReview?: boolean;
}

/** What a page's report learns. */
/** One attempt of a task, as it ended: who ran it and when it was queued, started and ended (epoch ms). */
export interface TaskSpan {
  batchId: string;
  documentId: string;
  step: StepName;
  /** The page of a page task. */
  page?: number;
  attempt: number;
  worker: string;
  queuedAt: number;
  startedAt: number;
  endedAt: number;
  outcome: TaskOutcome;
  /** Pages the task finished (a page task: 1; preprocessing: the pages it handed on). */
  pages?: number;
}

export interface PageProgress {
  done: number;
  documentStatus: TaskStatus | null;
  /** The paged step's own status: 'completed' once its pages were put together. */
  stepStatus: TaskStatus | null;
  /** The status of the step before (whose pages these are); 'completed' when there is none. */
  previousStepStatus: TaskStatus | null;
}

export interface BatchHeader {
  id: string;
  priority: number;
  pipeline: StepName[];
  options: JobOptions;
  total: number;
  /** Documents refused at submit (empty files): counted failed from the start. */
  refused: number;
  createdAt: Date;
}

/** Where a batch stands in the listing: when it was created (ms) and its id. */
export interface BatchPosition {
  createdAt: number;
  id: string;
}

export interface BatchListFilter {
  status?: BatchStatus;
  /** Only batches created at or after this time (ms). */
  since?: number;
  /** Only batches after this one (newest first): the last of the page before. */
  after?: BatchPosition;
  limit: number;
}

/** Batch and document records in Redis: small fields and counters, never document bytes. */
export class BatchStore {
  readonly keys;
  private readonly redis: Redis & ScriptCommands;

  /**
   * @param onBatchEnd called with the batch's final record when one of this store's
   * calls ends it (its last document recorded): the worker that did logs it.
   */
  constructor(
    redis: Redis,
    prefix: string,
    private readonly maxEvents: number,
    private readonly onBatchEnd?: (batch: BatchRecord) => void,
  ) {
    this.keys = recordKeys(prefix);
    this.redis = redis as Redis & ScriptCommands;
    if (!('docprocRecordStep' in redis)) {
      redis.defineCommand('docprocStepStarted', { numberOfKeys: 3, lua: STEP_STARTED });
      redis.defineCommand('docprocRecordStep', { numberOfKeys: 7, lua: RECORD_STEP });
      redis.defineCommand('docprocRecordReview', { numberOfKeys: 6, lua: RECORD_REVIEW });
      redis.defineCommand('docprocPageDone', { numberOfKeys: 3, lua: PAGE_DONE });
      redis.defineCommand('docprocCancelBatch', { numberOfKeys: 6, lua: CANCEL_BATCH });
      redis.defineCommand('docprocReopenDocuments', { numberOfKeys: 3, lua: REOPEN_DOCUMENTS });
    }
  }

  /** Adds a task's outcome to the platform counters (see counters.ts), for outcomes noted apart from a task's run (dead-lettered). */
  async countTask(task: TaskCount): Promise<void> {
    await countTask(this.redis.multi(), this.keys.counters, task).exec();
  }

  /**
   * A task attempt ended: counted in the platform counters and, as a `task`
   * event in its batch's stream, drawn on the batch page's timeline — in one
   * round trip. Called before the step is recorded, so the event precedes the
   * batch's end.
   */
  async taskEnded(span: TaskSpan): Promise<void> {
    // A crashed attempt's end is only when its loss was noticed: not a duration worth a histogram.
    const seconds = span.outcome === 'crashed' ? undefined : Math.max(0, span.endedAt - span.startedAt) / 1000;
    const multi = countTask(this.redis.multi(), this.keys.counters, { step: span.step, outcome: span.outcome, seconds, pages: span.pages });
    multi.xadd(
      this.keys.events(span.batchId),
      'MAXLEN',
      '~',
      this.maxEvents,
      '*',
      ...['type', 'task', 'document', span.documentId, 'step', span.step, 'page', span.page ?? '', 'attempt', span.attempt],
      ...['status', span.outcome, 'worker', span.worker, 'queued', span.queuedAt, 'started', span.startedAt, 'at', span.endedAt],
    );
    await multi.exec();
  }

  /** The batch's record, before its documents: `total` is final from the start, so the batch cannot end before all are in. */
  async createBatch(batch: BatchHeader): Promise<void> {
    const createdAt = batch.createdAt.getTime();
    // Tasks are queued only once every document is recorded: a batch ends at submit only
    // when every document was refused.
    const ended = batch.total > 0 && batch.refused === batch.total;
    const multi = this.redis.multi().hset(this.keys.batch(batch.id), {
      id: batch.id,
      status: ended ? 'failed' : 'queued',
      priority: batch.priority,
      pipeline: batch.pipeline.join(','),
      options: JSON.stringify(batch.options),
      reviewRequired: batch.options.review === 'required' ? 1 : 0,
      total: batch.total,
      completed: 0,
      failed: batch.refused,
      cancelled: 0,
      createdAt,
      ...(ended ? { finishedAt: createdAt } : {}),
    });
    multi.zadd(this.keys.batches, createdAt, batch.id);
    if (batch.refused > 0) multi.hincrby(this.keys.counters, 'documents:failed', batch.refused);
    if (ended) multi.zadd(this.keys.finished, createdAt, batch.id).hincrby(this.keys.counters, 'batches:failed', 1);
    await multi.exec();
  }

  /**
   * Adds a chunk of the batch's documents (one MULTI). A document that came
   * with an error (refused at submit) is recorded failed; createBatch counted it.
   */
  async addDocuments(batchId: string, pipeline: StepName[], documents: NewDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const multi = this.redis.multi();
    multi.rpush(this.keys.batchDocuments(batchId), ...documents.map((d) => d.id));
    for (const doc of documents) {
      const steps: Record<string, string> = {};
      for (const step of pipeline) steps[`${step}.status`] = doc.error ? 'pending' : 'queued';
      const fields: Record<string, string | number> = {
        id: doc.id,
        batchId,
        name: doc.name,
        blobKey: doc.blobKey,
        size: doc.size,
        status: 'queued',
        ...steps,
      };
      if (doc.error) Object.assign(fields, { status: 'failed', error: JSON.stringify(doc.error), finishedAt: Date.now() });
      multi.hset(this.keys.document(doc.id), fields);
    }
    await multi.exec();
  }

  /** Marks a batch as being fanned out (its first tasks still being queued), or done with that. */
  async markFanOut(batchId: string, pending: boolean): Promise<void> {
    if (pending) await this.redis.sadd(this.keys.fanningOut, batchId);
    else await this.redis.srem(this.keys.fanningOut, batchId);
  }

  /** Batches whose fan-out did not finish (the orchestrator stopped mid-way): to be resumed. */
  async fanningOut(): Promise<string[]> {
    return this.redis.smembers(this.keys.fanningOut);
  }

  async getBatch(batchId: string): Promise<BatchRecord | null> {
    return parseBatch(await this.redis.hgetall(this.keys.batch(batchId)));
  }

  /**
   * Batches newest first, filtered, at most `limit`, after the position `after`
   * (the last of the page before: its creation time and id). Returns the page
   * and the position of its last batch, to ask for the next page with.
   */
  async listBatches(filter: BatchListFilter): Promise<{ batches: BatchRecord[]; last: BatchPosition | null }> {
    const found: BatchRecord[] = [];
    let after = filter.after;
    let last: BatchPosition | null = null;
    const chunk = Math.max(filter.limit * 2, 50);
    while (found.length < filter.limit) {
      const replies = await this.redis.zrevrangebyscore(
        this.keys.batches,
        after ? after.createdAt : '+inf',
        filter.since ?? '-inf',
        'WITHSCORES',
        'LIMIT',
        0,
        chunk,
      );
      const entries: BatchPosition[] = [];
      for (let i = 0; i < replies.length; i += 2) entries.push({ id: replies[i]!, createdAt: Number(replies[i + 1]) });
      // Equal times come in reverse order of id: those up to the cursor were on the page before.
      const fresh = entries.filter((e) => !after || e.createdAt < after.createdAt || e.id < after.id);
      if (fresh.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const e of fresh) pipeline.hgetall(this.keys.batch(e.id));
      const records = (await pipeline.exec()) ?? [];
      for (const [index, [err, h]] of records.entries()) {
        if (err) throw err;
        last = fresh[index]!;
        const batch = parseBatch(h as Record<string, string>);
        if (batch && (!filter.status || batch.status === filter.status)) found.push(batch);
        if (found.length === filter.limit) break;
      }
      if (entries.length < chunk) {
        if (found.length < filter.limit) last = null; // the end: no page after this one
        break;
      }
      after = last!;
    }
    return { batches: found, last: found.length === filter.limit ? last : null };
  }

  async documentCount(batchId: string): Promise<number> {
    return this.redis.llen(this.keys.batchDocuments(batchId));
  }

  /** Ids of the batch's documents from `start` to `stop` (inclusive; -1 for the last), in submission order. */
  async getDocumentIds(batchId: string, start = 0, stop = -1): Promise<string[]> {
    return this.redis.lrange(this.keys.batchDocuments(batchId), start, stop);
  }

  /** The documents' records, with the pages done of paged steps, in one round trip. */
  async getDocuments(documentIds: string[]): Promise<(DocumentRecord | null)[]> {
    if (documentIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of documentIds) {
      pipeline.hgetall(this.keys.document(id));
      for (const step of PAGED_STEPS) pipeline.scard(this.keys.donePages(id, step));
    }
    const replies = (await pipeline.exec()) ?? [];
    const per = 1 + PAGED_STEPS.length;
    return documentIds.map((_, i) => {
      const [err, h] = replies[i * per]!;
      if (err) throw err;
      const done = PAGED_STEPS.map((_, p) => Number(replies[i * per + 1 + p]![1] ?? 0));
      return parseDocument(h as Record<string, string>, done);
    });
  }

  async getDocument(documentId: string): Promise<DocumentRecord | null> {
    return (await this.getDocuments([documentId]))[0] ?? null;
  }

  /** A task starts. Returns the batch and document status: a final document status means the task skips. */
  async stepStarted(
    batchId: string,
    documentId: string,
    step: StepName,
    task: { page?: number; attempt: number; worker: string; queuedAt: number },
  ): Promise<{ batchStatus: BatchStatus | null; documentStatus: TaskStatus | null }> {
    const [batchStatus, documentStatus] = await this.redis.docprocStepStarted(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      this.keys.events(batchId),
      step,
      String(Date.now()),
      task.page === undefined ? '' : String(task.page),
      String(task.attempt),
      String(this.maxEvents),
      task.worker,
      String(task.queuedAt),
    );
    return { batchStatus: (batchStatus || null) as BatchStatus | null, documentStatus: (documentStatus || null) as TaskStatus | null };
  }

  /**
   * Records how a task of a step ended (the document's status too, when it is
   * done). Returns the batch status after the change ('cancelled' means the
   * document's chain stops here) and the pages of the next paged step done.
   */
  async recordStep(
    batchId: string,
    documentId: string,
    step: StepName,
    outcome: StepOutcome,
  ): Promise<{ batchStatus: BatchStatus; nextPagesDone: number }> {
    const [batchStatus, nextPagesDone, ended] = await this.redis.docprocRecordStep(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      this.keys.events(batchId),
      this.keys.finished,
      this.keys.donePages(documentId, outcome.nextPagedStep ?? step),
      this.keys.counters,
      this.keys.reviews,
      step,
      outcome.status,
      String(Date.now()),
      outcome.startedAt === undefined ? '' : String(outcome.startedAt),
      String(outcome.attempts),
      outcome.documentStatus ?? '',
      outcome.error ? JSON.stringify(outcome.error) : '',
      outcome.resultJson ?? '',
      outcome.resultKey ?? '',
      String(this.maxEvents),
      batchId,
      outcome.needsReview ? '1' : '',
    );
    if (ended === 1 && this.onBatchEnd) {
      const batch = await this.getBatch(batchId);
      if (batch) this.onBatchEnd(batch);
    }
    return { batchStatus: batchStatus as BatchStatus, nextPagesDone: outcome.nextPagedStep ? Number(nextPagesDone) : 0 };
  }

  /** Counts a page of a paged step as done (idempotent), in one call. */
  async recordPageDone(
    batchId: string,
    documentId: string,
    step: StepName,
    previous: StepName | undefined,
    page: { index: number; count: number },
  ): Promise<PageProgress> {
    const [done, documentStatus, stepStatus, previousStepStatus] = await this.redis.docprocPageDone(
      this.keys.document(documentId),
      this.keys.donePages(documentId, step),
      this.keys.events(batchId),
      String(page.index),
      step,
      previous ?? '',
      String(this.maxEvents),
      String(page.count),
      String(Date.now()),
    );
    return {
      done: Number(done),
      documentStatus: (documentStatus || null) as TaskStatus | null,
      stepStatus: (stepStatus || null) as TaskStatus | null,
      previousStepStatus: (previousStepStatus || null) as TaskStatus | null,
    };
  }

  /** How many pages the tasks of a paged step of the document cover (set once, before the first is queued). */
  async setPageCount(documentId: string, step: StepName, count: number): Promise<void> {
    await this.redis.hset(this.keys.document(documentId), `${step}.pageCount`, count);
  }

  /** The page indexes of a paged step that are done. */
  async donePages(documentId: string, step: StepName): Promise<Set<number>> {
    return new Set((await this.redis.smembers(this.keys.donePages(documentId, step))).map(Number));
  }

  /** For each document, the page counts of the given paged steps (absent before their pages were queued). */
  async pageCounts(documentIds: string[], steps: StepName[]): Promise<Partial<Record<StepName, number>>[]> {
    if (steps.length === 0) return documentIds.map(() => ({}));
    const pipeline = this.redis.pipeline();
    for (const id of documentIds) pipeline.hmget(this.keys.document(id), ...steps.map((step) => `${step}.pageCount`));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, values]) => {
      if (err) throw err;
      const counts: Partial<Record<StepName, number>> = {};
      (values as (string | null)[]).forEach((value, i) => {
        if (value !== null) counts[steps[i]!] = Number(value);
      });
      return counts;
    });
  }

  /** A step's stored result: inline JSON or a blob key, as recordStep kept it. */
  async stepResult(documentId: string, step: StepName): Promise<{ resultJson?: string; resultKey?: string }> {
    const [json, key] = await this.redis.hmget(this.keys.document(documentId), `${step}.result`, `${step}.resultKey`);
    return { resultJson: json ?? undefined, resultKey: key ?? undefined };
  }

  /**
   * Cancels the batch and each of its documents not done yet. Returns the
   * status the batch had, or null for an unknown batch.
   */
  async cancelBatch(batchId: string): Promise<BatchStatus | null> {
    const before = await this.redis.docprocCancelBatch(
      this.keys.batch(batchId),
      this.keys.batchDocuments(batchId),
      this.keys.events(batchId),
      this.keys.finished,
      this.keys.counters,
      this.keys.reviews,
      String(Date.now()),
      this.keys.document(''),
      String(this.maxEvents),
      batchId,
    );
    if (before !== '' && before !== 'queued' && before !== 'running' && before !== 'awaiting_review') return before as BatchStatus;
    if (before !== '') await this.redis.publish(this.keys.cancelChannel, batchId);
    return before === '' ? null : (before as BatchStatus);
  }

  /** Reopens failed documents from the given steps on (see REOPEN_DOCUMENTS); returns the ids reopened. */
  async reopenDocuments(batchId: string, documents: { id: string; steps: StepName[] }[]): Promise<string[]> {
    if (documents.length === 0) return [];
    return this.redis.docprocReopenDocuments(
      this.keys.batch(batchId),
      this.keys.events(batchId),
      this.keys.finished,
      String(Date.now()),
      this.keys.document(''),
      String(this.maxEvents),
      batchId,
      ...documents.flatMap((d) => [d.id, d.steps.join(',')]),
    );
  }

  /** Keeps one failed attempt in the document's error history. */
  async addFailedAttempt(documentId: string, attempt: FailedAttempt): Promise<void> {
    await this.redis.rpush(this.keys.failedAttempts(documentId), JSON.stringify(attempt));
  }

  /** The document's error history, oldest first. */
  async failedAttempts(documentId: string): Promise<FailedAttempt[]> {
    return (await this.redis.lrange(this.keys.failedAttempts(documentId), 0, -1)).map((json) => failedAttemptSchema.parse(JSON.parse(json)));
  }

  /** Batches that ended before `ms`, oldest first (at most `limit`). */
  async finishedBefore(ms: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.finished, '-inf', ms, 'LIMIT', 0, limit);
  }

  /** Removes the batch's records: documents in chunks, then the batch itself (so a half-done removal is found again). */
  /**
   * Records a decision on a document waiting for review. Returns 'recorded' with the batch's
   * status after it, or why it was not taken: 'none' (the document never waited for review),
   * 'cancelled' (its job was), or the decision already recorded.
   */
  async recordReview(batchId: string, documentId: string, decision: ReviewDecision): Promise<{ outcome: string; batchStatus: BatchStatus }> {
    const [outcome, batchStatus, ended] = await this.redis.docprocRecordReview(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      this.keys.events(batchId),
      this.keys.finished,
      this.keys.counters,
      this.keys.reviews,
      decision.decision,
      JSON.stringify(decision),
      String(Date.parse(decision.at)),
      String(this.maxEvents),
      batchId,
      decision.reviewer,
    );
    if (ended === 1 && this.onBatchEnd) {
      const batch = await this.getBatch(batchId);
      if (batch) this.onBatchEnd(batch);
    }
    return { outcome, batchStatus: batchStatus as BatchStatus };
  }

  /** Documents waiting for review, oldest first: `{ batchId, documentId, since }`, from `offset`. */
  async waitingReviews(offset: number, count: number): Promise<{ batchId: string; documentId: string; since: string }[]> {
    const flat = await this.redis.zrange(this.keys.reviews, offset, offset + count - 1, 'WITHSCORES');
    const waiting = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [batchId, documentId] = flat[i]!.split('/') as [string, string];
      waiting.push({ batchId, documentId, since: new Date(Number(flat[i + 1])).toISOString() });
    }
    return waiting;
  }

  async deleteBatchRecords(batchId: string): Promise<void> {
    for (;;) {
      const ids = await this.redis.lrange(this.keys.batchDocuments(batchId), 0, 499);
      if (ids.length === 0) break;
      const keys = ids.flatMap((id) => [
        this.keys.document(id),
        this.keys.failedAttempts(id),
        ...PAGED_STEPS.map((step) => this.keys.donePages(id, step)),
      ]);
      await this.redis
        .multi()
        .unlink(...keys)
        .zrem(this.keys.reviews, ...ids.map((id) => `${batchId}/${id}`))
        .ltrim(this.keys.batchDocuments(batchId), ids.length, -1)
        .exec();
    }
    await this.redis
      .multi()
      .unlink(this.keys.batch(batchId), this.keys.batchDocuments(batchId), this.keys.events(batchId))
      .zrem(this.keys.batches, batchId)
      .zrem(this.keys.finished, batchId)
      .srem(this.keys.fanningOut, batchId)
      .exec();
  }
}
