import type { Redis } from 'ioredis';
import { STEPS, type BatchStatus, type DocumentErrorInfo, type StepName, type TaskStatus } from '@docproc/catalog';
import { recordKeys } from './keys';
import { CANCEL_BATCH, PAGE_DONE, RECORD_STEP } from './scripts';
import type { BatchRecord, DocumentRecord, NewBatch, StepRecord } from './records';

interface ScriptCommands {
  docprocRecordStep(batchKey: string, documentKey: string, ...args: string[]): Promise<string>;
  docprocCancelBatch(batchKey: string, documentsKey: string, now: string, documentKeyPrefix: string, errorJson: string): Promise<string>;
  docprocPageDone(documentKey: string, pagesKey: string, index: string, step: string, startedAt: string): Promise<[number, string, string]>;
}

/** What a page's report learns: how many pages are done, and where the document stands. */
export interface PageProgress {
  done: number;
  documentStatus: TaskStatus;
  /** When the first of the step's pages started (ms): the step's start. */
  firstStartedAt: number;
}

/** How one step of one document ended. */
export interface StepOutcome {
  status: TaskStatus;
  /** ms since the epoch */
  startedAt: number;
  attempts: number;
  /** Set when the document is done: its last step completed, or it failed. */
  documentStatus?: TaskStatus;
  error?: DocumentErrorInfo;
  /** The result as JSON when small enough to keep in Redis ... */
  resultJson?: string;
  /** ... else the blob key it was stored under. */
  resultKey?: string;
}

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

/** Batch and document records in Redis: small fields and counters, never document bytes. */
export class BatchStore {
  private readonly keys;
  private readonly redis: Redis & ScriptCommands;

  constructor(redis: Redis, prefix: string) {
    this.keys = recordKeys(prefix);
    this.redis = redis as Redis & ScriptCommands;
    if (!('docprocRecordStep' in redis)) {
      redis.defineCommand('docprocRecordStep', { numberOfKeys: 2, lua: RECORD_STEP });
      redis.defineCommand('docprocCancelBatch', { numberOfKeys: 2, lua: CANCEL_BATCH });
      redis.defineCommand('docprocPageDone', { numberOfKeys: 2, lua: PAGE_DONE });
    }
  }

  async createBatch(batch: NewBatch): Promise<void> {
    const createdAt = (batch.createdAt ?? new Date()).getTime();
    const multi = this.redis.multi();
    multi.hset(this.keys.batch(batch.id), {
      id: batch.id,
      status: 'queued',
      priority: batch.priority,
      pipeline: batch.pipeline.join(','),
      options: JSON.stringify(batch.options),
      total: batch.documents.length,
      completed: 0,
      failed: 0,
      cancelled: 0,
      createdAt,
    });
    if (batch.documents.length > 0) {
      multi.rpush(this.keys.batchDocuments(batch.id), ...batch.documents.map((d) => d.id));
    }
    for (const doc of batch.documents) {
      const steps: Record<string, string> = {};
      for (const step of batch.pipeline) steps[`${step}.status`] = 'queued';
      multi.hset(this.keys.document(doc.id), {
        id: doc.id,
        batchId: batch.id,
        name: doc.name,
        blobKey: doc.blobKey,
        size: doc.size,
        status: 'queued',
        ...steps,
      });
    }
    multi.zadd(this.keys.batches, createdAt, batch.id);
    await multi.exec();
  }

  async getBatch(batchId: string): Promise<BatchRecord | null> {
    const h = await this.redis.hgetall(this.keys.batch(batchId));
    if (!h.id) return null;
    return {
      id: h.id,
      status: h.status as BatchStatus,
      priority: Number(h.priority),
      pipeline: (h.pipeline ?? '').split(',') as StepName[],
      options: JSON.parse(h.options ?? '{}'),
      total: Number(h.total ?? 0),
      completed: Number(h.completed ?? 0),
      failed: Number(h.failed ?? 0),
      cancelled: Number(h.cancelled ?? 0),
      createdAt: iso(h.createdAt) ?? '',
      startedAt: iso(h.startedAt),
      finishedAt: iso(h.finishedAt),
    };
  }

  async getDocumentIds(batchId: string): Promise<string[]> {
    return this.redis.lrange(this.keys.batchDocuments(batchId), 0, -1);
  }

  async getDocuments(batchId: string): Promise<DocumentRecord[]> {
    const ids = await this.getDocumentIds(batchId);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.document(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, h]) => {
      if (err) throw err;
      return parseDocument(h as Record<string, string>);
    });
  }

  /**
   * Records how a step ended (the document's status too, when it is done) and
   * returns the batch status after the change: 'cancelled' means the
   * document's chain must stop here.
   */
  async recordStep(batchId: string, documentId: string, step: StepName, outcome: StepOutcome): Promise<BatchStatus> {
    const status = await this.redis.docprocRecordStep(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      step,
      outcome.status,
      String(Date.now()),
      String(outcome.startedAt),
      String(outcome.attempts),
      outcome.documentStatus ?? '',
      outcome.error ? JSON.stringify(outcome.error) : '',
      outcome.resultJson ?? '',
      outcome.resultKey ?? '',
    );
    return status as BatchStatus;
  }

  /** Counts a page of a paged step, started at `startedAt`, as done (idempotent), in one call. */
  async recordPageDone(documentId: string, step: StepName, index: number, startedAt: number): Promise<PageProgress> {
    const [done, documentStatus, first] = await this.redis.docprocPageDone(
      this.keys.document(documentId),
      this.keys.donePages(documentId, step),
      String(index),
      step,
      String(startedAt),
    );
    return { done: Number(done), documentStatus: documentStatus as TaskStatus, firstStartedAt: Number(first) };
  }

  /** How many pages the jobs of a paged step of the document cover. */
  async setPageCount(documentId: string, step: StepName, count: number): Promise<void> {
    await this.redis.hset(this.keys.document(documentId), `${step}.pageCount`, count);
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

  /** How a step of a document stands in its record, or null before it was recorded. */
  async stepStatus(documentId: string, step: StepName): Promise<TaskStatus | null> {
    return (await this.redis.hget(this.keys.document(documentId), `${step}.status`)) as TaskStatus | null;
  }

  /** The document's status, or null when there is no such document. */
  async documentStatus(documentId: string): Promise<TaskStatus | null> {
    return (await this.redis.hget(this.keys.document(documentId), 'status')) as TaskStatus | null;
  }

  /** A step's stored result: inline JSON or a blob key, as recordStep kept it. */
  async stepResult(documentId: string, step: StepName): Promise<{ json?: string; blobKey?: string }> {
    const [json, blobKey] = await this.redis.hmget(this.keys.document(documentId), `${step}.result`, `${step}.resultKey`);
    return { json: json ?? undefined, blobKey: blobKey ?? undefined };
  }

  /**
   * Cancels the batch and each of its documents not done yet. Returns the
   * status the batch had, or null for an unknown batch.
   */
  async cancelBatch(batchId: string): Promise<BatchStatus | null> {
    const before = await this.redis.docprocCancelBatch(
      this.keys.batch(batchId),
      this.keys.batchDocuments(batchId),
      String(Date.now()),
      this.keys.document(''),
      JSON.stringify({ code: 'cancelled', message: 'the job was cancelled' }),
    );
    return before === '' ? null : (before as BatchStatus);
  }
}

function parseDocument(h: Record<string, string>): DocumentRecord {
  const steps: DocumentRecord['steps'] = {};
  for (const step of STEPS) {
    const status = h[`${step}.status`];
    if (!status) continue;
    const record: StepRecord = {
      status: status as TaskStatus,
      attempts: Number(h[`${step}.attempts`] ?? 0),
      startedAt: iso(h[`${step}.startedAt`]),
      finishedAt: iso(h[`${step}.finishedAt`]),
      resultJson: h[`${step}.result`],
      resultKey: h[`${step}.resultKey`],
    };
    steps[step] = record;
  }
  return {
    id: h.id ?? '',
    batchId: h.batchId ?? '',
    name: h.name ?? '',
    blobKey: h.blobKey ?? '',
    size: Number(h.size ?? 0),
    status: (h.status ?? 'pending') as TaskStatus,
    error: h.error ? (JSON.parse(h.error) as DocumentErrorInfo) : null,
    steps,
  };
}
