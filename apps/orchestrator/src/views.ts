import { PAGED_STEPS, stepResultSchemas, type FailedAttempt, type StepName } from '@docproc/catalog';
import { readStepResult, type BatchRecord, type DocumentRecord } from '@docproc/batches';
import type { BlobStore } from '@docproc/storage';
import type { BatchBody, DocumentBody, FullDocumentBody } from './api-schemas';
import type { BatchKeyTerms } from './batch-terms';

/** The body of GET /v1/jobs/:id (and each entry of GET /v1/jobs). */
export function batchView(batch: BatchRecord): BatchBody {
  const done = batch.completed + batch.failed + batch.cancelled;
  return {
    id: batch.id,
    tenant: batch.tenant,
    status: batch.status,
    priority: batch.priority,
    pipeline: batch.pipeline,
    progress: {
      total: batch.total,
      completed: batch.completed,
      failed: batch.failed,
      cancelled: batch.cancelled,
      percent: batch.total === 0 ? 100 : Math.floor((done / batch.total) * 100),
    },
    reviews: batch.reviews,
    createdAt: batch.createdAt,
    startedAt: batch.startedAt,
    finishedAt: batch.finishedAt,
  };
}

/** What GET .../results leaves out unless asked with `?include=`: bulky, and the text says it already. */
export type Extra = 'words' | 'tokens';
export const EXTRAS: readonly Extra[] = ['words', 'tokens'];

function trim(step: StepName, result: unknown, include: ReadonlySet<Extra>): unknown {
  if (step === 'ocr' && !include.has('words')) {
    const ocr = stepResultSchemas.ocr.parse(result);
    return { ...ocr, pages: ocr.pages.map(({ words: _words, ...page }) => page) };
  }
  if (step === 'nlp' && !include.has('tokens')) {
    const { tokens: _tokens, ...nlp } = stepResultSchemas.nlp.parse(result);
    return nlp;
  }
  return result;
}

/** Where a document stands: the step it is in (null once it ended), and for a paged step its pages. */
function position(pipeline: StepName[], doc: DocumentRecord) {
  if (doc.status !== 'queued' && doc.status !== 'running') return { step: null, pages: null };
  const step = pipeline.find((s) => doc.steps[s]?.status !== 'completed') ?? null;
  const pages = step && PAGED_STEPS.includes(step) ? (doc.steps[step]?.pages ?? null) : null;
  return { step, pages };
}

/**
 * One entry of `documents` in GET .../results: every step of the pipeline
 * (null until it completed), where the document stands, and its error.
 */
export async function documentView(
  blobs: BlobStore,
  pipeline: StepName[],
  doc: DocumentRecord,
  include: ReadonlySet<Extra>,
  keyTerms?: BatchKeyTerms | null,
): Promise<DocumentBody> {
  const steps: Partial<Record<StepName, unknown>> = {};
  for (const step of pipeline) {
    const record = doc.steps[step];
    const result = record?.status === 'completed' ? await readStepResult(blobs, record) : undefined;
    steps[step] = result === undefined ? null : trim(step, result, include);
  }
  return {
    documentId: doc.id,
    name: doc.name,
    status: doc.status,
    current: position(pipeline, doc),
    steps: steps as DocumentBody['steps'], // each result was parsed by its step's schema when written
    error: doc.error,
    review: doc.review,
    ...(keyTerms ? { batchKeyTerms: keyTerms[doc.id] ?? [] } : {}),
  };
}

/** GET /v1/jobs/:id/documents/:documentId: the document whole, with each step's record and the error history. */
export async function fullDocumentView(
  blobs: BlobStore,
  pipeline: StepName[],
  doc: DocumentRecord,
  attempts: FailedAttempt[],
): Promise<FullDocumentBody> {
  const view = await documentView(blobs, pipeline, doc, new Set(EXTRAS));
  const tasks = Object.fromEntries(
    pipeline.map((step) => {
      const record = doc.steps[step];
      return [
        step,
        record
          ? {
              status: record.status,
              attempts: record.attempts,
              startedAt: record.startedAt,
              finishedAt: record.finishedAt,
              pages: record.pages ?? null,
            }
          : null,
      ];
    }),
  );
  return {
    ...view,
    batchId: doc.batchId,
    size: doc.size,
    retries: doc.retries,
    startedAt: doc.startedAt,
    finishedAt: doc.finishedAt,
    tasks,
    failedAttempts: attempts,
  };
}
