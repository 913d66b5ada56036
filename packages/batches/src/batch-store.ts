import {
  DEFAULT_TENANT,
  PAGED_STEPS,
  toQueuePriority,
  failedAttemptSchema,
  type BatchStatus,
  type FailedAttempt,
  type JobOptions,
  type StepName,
} from '@docproc/catalog';
import { recordKeys } from './keys';
import { ADD_DOCUMENTS, CANCEL_BATCH, RECORD_REVIEW, REOPEN_DOCUMENTS } from './scripts';
import { countTask, quotaRefusalField, tenantLoadField, type TaskCount } from './counters';
import { parseBatch, parseDocument, type AuditEntry, type BatchRecord, type DocumentRecord, type NewDocument, type ReviewDecision } from './records';
import type { RedisClient } from './redis-client';

interface ScriptCommands {
  docprocRecordReview(
    batch: string,
    doc: string,
    events: string,
    finished: string,
    counters: string,
    reviews: string,
    ...args: string[]
  ): Promise<[string, string, number]>;
  docprocCancelBatch(
    batch: string,
    docs: string,
    events: string,
    finished: string,
    counters: string,
    reviews: string,
    ...args: string[]
  ): Promise<string>;
  docprocReopenDocuments(batch: string, events: string, finished: string, counters: string, ...args: string[]): Promise<string[]>;
  docprocAddDocuments(documents: string, ...args: string[]): Promise<null>;
}

export interface BatchHeader {
  id: string;
  tenant: string;
  /** The id of the key that submitted it (recorded in its audit trail). */
  submittedBy: string;
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
  /** Only this tenant's batches. */
  tenant?: string;
  status?: BatchStatus;
  /** Only batches created at or after this time (ms). */
  since?: number;
  /** Only batches after this one (newest first): the last of the page before. */
  after?: BatchPosition;
  limit: number;
}

const utcDay = () => new Date().toISOString().slice(0, 10);

/** INCRBY when the sum stays within ARGV[2] (the key kept ARGV[3] s); else nothing, and -1. */
const TAKE_WITHIN = `local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then redis.call('DECRBY', KEYS[1], ARGV[1]) return -1 end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return n`;

/** Batch and document records in Redis: small fields and counters, never document bytes. */
export class BatchStore {
  readonly keys;
  private readonly redis: RedisClient & ScriptCommands;

  /**
   * @param onBatchEnd called with the batch's final record when a call ends it (its last
   * document recorded, or its last review): the worker that did logs it.
   */
  constructor(
    /** The connection the records go over (a task's ledger writes through it too). */
    readonly connection: RedisClient,
    prefix: string,
    /** Progress events kept per batch. */
    readonly maxEvents: number,
    private readonly onBatchEnd?: (batch: BatchRecord) => void,
  ) {
    this.keys = recordKeys(prefix);
    this.redis = connection as RedisClient & ScriptCommands;
    if (!('docprocCancelBatch' in connection)) {
      connection.defineCommand('docprocRecordReview', { numberOfKeys: 6, lua: RECORD_REVIEW });
      connection.defineCommand('docprocCancelBatch', { numberOfKeys: 6, lua: CANCEL_BATCH });
      connection.defineCommand('docprocReopenDocuments', { numberOfKeys: 4, lua: REOPEN_DOCUMENTS });
      connection.defineCommand('docprocAddDocuments', { numberOfKeys: 1, lua: ADD_DOCUMENTS });
    }
  }

  /** A call ended the batch: its final record goes to onBatchEnd. */
  async noteBatchEnded(batchId: string): Promise<void> {
    if (!this.onBatchEnd) return;
    const batch = await this.getBatch(batchId);
    if (batch) this.onBatchEnd(batch);
  }

  /** Adds a task's outcome to the platform counters (see counters.ts), for outcomes noted apart from a task's run (dead-lettered). */
  async countTask(task: TaskCount): Promise<void> {
    await countTask(this.redis.multi(), this.keys.counters, task).exec();
  }

  /** A document found waiting on no task and sent round again (OrphanSweeper). */
  async countRepair(): Promise<void> {
    await this.redis.hincrby(this.keys.counters, 'repairs:orphaned', 1);
  }

  /** The batch's record, before its documents: `total` is final from the start, so the batch cannot end before all are in. */
  async createBatch(batch: BatchHeader): Promise<void> {
    const createdAt = batch.createdAt.getTime();
    // Tasks are queued only once every document is recorded: a batch ends at submit only
    // when every document was refused.
    const ended = batch.total > 0 && batch.refused === batch.total;
    // Fair share: the batch's tasks are queued behind those of tenants with less work open.
    const accepted = batch.total - batch.refused;
    const load = await this.redis.hincrby(this.keys.counters, tenantLoadField(batch.tenant), accepted);
    const multi = this.redis.multi().hset(this.keys.batch(batch.id), {
      id: batch.id,
      tenant: batch.tenant,
      status: ended ? 'failed' : 'queued',
      priority: batch.priority,
      queuePriority: toQueuePriority(batch.priority, load),
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
    multi.zadd(this.keys.batches, createdAt, batch.id).zadd(this.keys.tenantBatches(batch.tenant), createdAt, batch.id);
    const submitted: AuditEntry = { action: 'submitted', tenant: batch.tenant, key: batch.submittedBy, at: batch.createdAt.toISOString() };
    multi.rpush(this.keys.audit(batch.id), JSON.stringify(submitted));
    if (batch.refused > 0) multi.hincrby(this.keys.counters, 'documents:failed', batch.refused);
    if (ended) multi.zadd(this.keys.finished, createdAt, batch.id).hincrby(this.keys.counters, 'batches:failed', 1);
    try {
      await multi.exec();
    } catch (err) {
      await this.redis.hincrby(this.keys.counters, tenantLoadField(batch.tenant), -accepted).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Adds a chunk of the batch's documents (one ADD_DOCUMENTS call). A document that came
   * with an error (refused at submit) is recorded failed; createBatch counted it.
   */
  async addDocuments(batchId: string, pipeline: StepName[], documents: NewDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const args = documents.flatMap((doc) => [doc.id, doc.name, doc.blobKey, String(doc.size), doc.error ? JSON.stringify(doc.error) : '']);
    await this.redis.docprocAddDocuments(
      this.keys.batchDocuments(batchId),
      this.keys.document(''),
      batchId,
      String(Date.now()),
      pipeline.join(','),
      ...args,
    );
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

  /** Batches not ended yet (nor being fanned out), oldest first. */
  async unfinishedBatches(): Promise<string[]> {
    const ids = await this.redis.zrange(this.keys.batches, 0, -1);
    if (ids.length === 0) return [];
    const [ended, fanning] = await Promise.all([this.redis.zmscore(this.keys.finished, ...ids), this.redis.smismember(this.keys.fanningOut, ...ids)]);
    return ids.filter((_, i) => ended[i] === null && fanning[i] === 0);
  }

  /** Documents the tenant has accepted and not ended (never below 0). */
  async tenantLoad(tenant: string): Promise<number> {
    return Math.max(0, Number((await this.redis.hget(this.keys.counters, tenantLoadField(tenant))) ?? 0));
  }

  /**
   * Takes `count` of the tenant's documents for today (UTC) when that stays within `limit`
   * (one script: concurrent submits cannot both pass); the day's count after, or null when
   * it would go over. `giveBack` returns them (a submit refused later).
   */
  async takeToday(tenant: string, count: number, limit = Number.MAX_SAFE_INTEGER): Promise<number | null> {
    const taken = (await this.redis.eval(TAKE_WITHIN, 1, this.keys.tenantDay(tenant, utcDay()), count, limit, 2 * 86_400)) as number;
    return taken < 0 ? null : taken;
  }

  async giveBack(tenant: string, count: number): Promise<void> {
    await this.redis.decrby(this.keys.tenantDay(tenant, utcDay()), count);
  }

  /** A submit refused by one of the tenant's quotas. */
  async countQuotaRefusal(tenant: string, quota: string): Promise<void> {
    await this.redis.hincrby(this.keys.counters, quotaRefusalField(tenant, quota), 1);
  }

  /** The tenant's documents accepted today (UTC). */
  async today(tenant: string): Promise<number> {
    return Number((await this.redis.get(this.keys.tenantDay(tenant, utcDay()))) ?? 0);
  }

  /** The tenant a batch belongs to; null when there is no such batch. */
  async tenantOf(batchId: string): Promise<string | null> {
    const [id, tenant] = await this.redis.hmget(this.keys.batch(batchId), 'id', 'tenant');
    return id === null ? null : (tenant ?? DEFAULT_TENANT);
  }

  /** Adds to the batch's audit trail (who did what). */
  async audit(batchId: string, entry: AuditEntry): Promise<void> {
    await this.redis.rpush(this.keys.audit(batchId), JSON.stringify(entry));
  }

  /** The batch's audit trail, oldest first. */
  async auditTrail(batchId: string): Promise<AuditEntry[]> {
    return (await this.redis.lrange(this.keys.audit(batchId), 0, -1)).map((json) => JSON.parse(json) as AuditEntry);
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
        filter.tenant === undefined ? this.keys.batches : this.keys.tenantBatches(filter.tenant),
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
      this.keys.counters,
      String(Date.now()),
      this.keys.document(''),
      String(this.maxEvents),
      batchId,
      ...documents.flatMap((d) => [d.id, d.steps.join(',')]),
    );
  }

  /** The document's error history, oldest first. */
  async failedAttempts(documentId: string): Promise<FailedAttempt[]> {
    return (await this.redis.lrange(this.keys.failedAttempts(documentId), 0, -1)).map((json) => failedAttemptSchema.parse(JSON.parse(json)));
  }

  /** Batches that ended before `ms`, oldest first (at most `limit`). */
  async finishedBefore(ms: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.finished, '-inf', ms, 'LIMIT', 0, limit);
  }

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
    if (ended === 1) await this.noteBatchEnded(batchId);
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

  /** Removes the batch's records: documents in chunks, then the batch itself (so a half-done removal is found again). */
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
    const tenant = (await this.tenantOf(batchId)) ?? DEFAULT_TENANT;
    const deliveries = await this.redis.lrange(this.keys.batchWebhooks(batchId), 0, -1);
    const webhookKeys = deliveries.flatMap((id) => [this.keys.webhookDelivery(id), this.keys.webhookAttempts(id)]);
    await this.redis
      .multi()
      .unlink(this.keys.batch(batchId), this.keys.batchDocuments(batchId), this.keys.events(batchId), this.keys.audit(batchId))
      .unlink(this.keys.batchWebhooks(batchId), ...webhookKeys)
      .hdel(this.keys.webhookTargets, batchId)
      .hdel(this.keys.webhookCursors, batchId)
      .zrem(this.keys.batches, batchId)
      .zrem(this.keys.tenantBatches(tenant), batchId)
      .zrem(this.keys.finished, batchId)
      .srem(this.keys.fanningOut, batchId)
      .exec();
  }
}
