import {
  DEFAULT_TENANT,
  PAGED_STEPS,
  toQueuePriority,
  STEPS,
  type BatchStatus,
  type DocumentErrorInfo,
  type JobOptions,
  type StepName,
  type TaskStatus,
} from '@docproc/catalog';

export interface NewDocument {
  id: string;
  name: string;
  blobKey: string;
  size: number;
  /** Set for a document refused at submit (an empty file): it is recorded failed and never queued. */
  error?: DocumentErrorInfo;
}

export interface NewBatch {
  id: string;
  /** Whose it is, and the id of the key that submitted it (the default tenant's, anonymous, when not given). */
  tenant?: string;
  submittedBy?: string;
  priority: number;
  pipeline: StepName[];
  options: JobOptions;
  documents: NewDocument[];
  createdAt?: Date;
}

export const REVIEW_DECISIONS = ['approved', 'rejected'] as const;

/** A reviewer's decision on a document, as recorded. */
export interface ReviewDecision {
  decision: (typeof REVIEW_DECISIONS)[number];
  reviewer: string;
  note: string;
  /** Extracted fields as the reviewer corrected them (those not given keep validation's). */
  fields: Record<string, string>;
  at: string;
}

export interface BatchRecord {
  id: string;
  /** The tenant whose key submitted it: only its keys (and administrators') see it. */
  tenant: string;
  status: BatchStatus;
  priority: number;
  /** Its tasks' BullMQ priority: the priority, then its tenant's load at submit (fair share). */
  queuePriority: number;
  pipeline: StepName[];
  options: JobOptions;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Documents waiting for review, and the decisions taken. */
  reviews: { waiting: number; approved: number; rejected: number };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** One act on a batch, and who did it: the key's tenant and id (never the key). */
export interface AuditEntry {
  action: 'submitted' | 'cancelled' | 'retried' | 'reviewed';
  tenant: string;
  key: string;
  at: string;
  /** The document, for a review. */
  document?: string;
}

export interface StepRecord {
  status: TaskStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** The step's result: inline JSON (small) or a blob key (large); neither until it completed. */
  resultJson?: string;
  resultKey?: string;
  /** A paged step: its pages, once the step before handed them on. */
  pages?: { done: number; total: number };
}

export interface DocumentRecord {
  id: string;
  batchId: string;
  name: string;
  blobKey: string;
  size: number;
  status: TaskStatus;
  error: DocumentErrorInfo | null;
  /** How often the document was sent round again by a retry of its batch. */
  retries: number;
  startedAt: string | null;
  finishedAt: string | null;
  steps: Partial<Record<StepName, StepRecord>>;
  /** Review: null when the document never needed one; else waiting, or the decision taken. */
  review: { status: 'waiting' } | ({ status: 'approved' | 'rejected' } & Omit<ReviewDecision, 'decision'>) | null;
}

const iso = (ms: string | undefined | null) => (ms ? new Date(Number(ms)).toISOString() : null);

/** A batch record as read from its Redis hash (null when there is none). */
export function parseBatch(h: Record<string, string>): BatchRecord | null {
  if (!h.id) return null;
  return {
    id: h.id,
    tenant: h.tenant ?? DEFAULT_TENANT,
    status: h.status as BatchStatus,
    priority: Number(h.priority),
    queuePriority: Number(h.queuePriority) || toQueuePriority(Number(h.priority)),
    pipeline: (h.pipeline ?? '').split(',') as StepName[],
    options: JSON.parse(h.options ?? '{}'),
    total: Number(h.total ?? 0),
    completed: Number(h.completed ?? 0),
    failed: Number(h.failed ?? 0),
    cancelled: Number(h.cancelled ?? 0),
    reviews: { waiting: Number(h.reviewWaiting ?? 0), approved: Number(h['review:approved'] ?? 0), rejected: Number(h['review:rejected'] ?? 0) },
    createdAt: iso(h.createdAt) ?? '',
    startedAt: iso(h.startedAt),
    finishedAt: iso(h.finishedAt),
  };
}

/** A document record as read from its Redis hash, with the pages done of each paged step (null when there is none). */
export function parseDocument(h: Record<string, string>, pagesDone: number[]): DocumentRecord | null {
  if (!h.id) return null;
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
    const pageCount = h[`${step}.pageCount`];
    const paged = PAGED_STEPS.indexOf(step);
    if (pageCount !== undefined && paged >= 0) record.pages = { done: pagesDone[paged] ?? 0, total: Number(pageCount) };
    steps[step] = record;
  }
  return {
    id: h.id,
    batchId: h.batchId ?? '',
    name: h.name ?? '',
    blobKey: h.blobKey ?? '',
    size: Number(h.size ?? 0),
    status: (h.status ?? 'pending') as TaskStatus,
    error: h.error ? (JSON.parse(h.error) as DocumentErrorInfo) : null,
    retries: Number(h.retries ?? 0),
    startedAt: iso(h.startedAt),
    finishedAt: iso(h.finishedAt),
    steps,
    review: reviewOf(h),
  };
}

function reviewOf(h: Record<string, string>): DocumentRecord['review'] {
  if (!h.review) return null;
  if (h.review === 'waiting' || !h.reviewRecord) return { status: 'waiting' };
  const { decision, ...rest } = JSON.parse(h.reviewRecord) as ReviewDecision;
  return { status: decision, ...rest };
}
