import type { Redis } from 'ioredis';
import { STEPS, type BatchStatus, type DocumentErrorInfo, type StepName, type TaskStatus } from '@docproc/catalog';
import { recordKeys } from './keys';
import { CANCEL_BATCH, STEP_FINISHED, STEP_STARTED } from './scripts';
import type { BatchRecord, DocumentRecord, NewBatch, StepRecord } from './records';

interface ScriptCommands {
  docprocStepStarted(batchKey: string, documentKey: string, step: string, now: string): Promise<string>;
  docprocStepFinished(
    batchKey: string,
    documentKey: string,
    step: string,
    stepStatus: string,
    now: string,
    documentStatus: string,
    errorJson: string,
  ): Promise<string>;
  docprocCancelBatch(batchKey: string, now: string): Promise<string>;
}

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

/** Batch and document records in Redis: small fields and counters, never document bytes. */
export class BatchStore {
  private readonly keys;
  private readonly redis: Redis & ScriptCommands;

  constructor(redis: Redis, prefix: string) {
    this.keys = recordKeys(prefix);
    this.redis = redis as Redis & ScriptCommands;
    if (!('docprocStepStarted' in redis)) {
      redis.defineCommand('docprocStepStarted', { numberOfKeys: 2, lua: STEP_STARTED });
      redis.defineCommand('docprocStepFinished', { numberOfKeys: 2, lua: STEP_FINISHED });
      redis.defineCommand('docprocCancelBatch', { numberOfKeys: 1, lua: CANCEL_BATCH });
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

  /** Returns false when the batch was cancelled: the step must not run. */
  async stepStarted(batchId: string, documentId: string, step: StepName): Promise<boolean> {
    const answer = await this.redis.docprocStepStarted(this.keys.batch(batchId), this.keys.document(documentId), step, String(Date.now()));
    return answer === 'ok';
  }

  /**
   * Records the end of one step. `documentStatus` is set when the document is
   * done (its last step completed, or it failed); the batch is finished with
   * its last document. Returns the batch status after the change.
   */
  async stepFinished(
    batchId: string,
    documentId: string,
    step: StepName,
    stepStatus: TaskStatus,
    documentStatus?: TaskStatus,
    error?: DocumentErrorInfo,
  ): Promise<BatchStatus> {
    const status = await this.redis.docprocStepFinished(
      this.keys.batch(batchId),
      this.keys.document(documentId),
      step,
      stepStatus,
      String(Date.now()),
      documentStatus ?? '',
      error ? JSON.stringify(error) : '',
    );
    return status as BatchStatus;
  }

  /** Returns the status the batch had, or null for an unknown batch. */
  async cancelBatch(batchId: string): Promise<BatchStatus | null> {
    const before = await this.redis.docprocCancelBatch(this.keys.batch(batchId), String(Date.now()));
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
