import { stepResultSchemas, type StepName } from '@docproc/catalog';
import type { BatchRecord, DocumentRecord } from '@docproc/batches';
import { getJson, type BlobStore } from '@docproc/storage';

/** The body of GET /v1/jobs/:id. */
export function batchView(batch: BatchRecord) {
  const done = batch.completed + batch.failed + batch.cancelled;
  return {
    id: batch.id,
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
    createdAt: batch.createdAt,
    startedAt: batch.startedAt,
    finishedAt: batch.finishedAt,
  };
}

/** What GET .../results leaves out unless asked with `?include=`: bulky, and the text says it already. */
export type Extra = 'words' | 'tokens';

function trim(step: StepName, result: unknown, include: Set<Extra>): unknown {
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

/** One entry of `documents` in GET .../results: every step of the pipeline, null until it completed. */
export async function documentView(blobs: BlobStore, pipeline: StepName[], doc: DocumentRecord, include: Set<Extra>) {
  const steps: Partial<Record<StepName, unknown>> = {};
  for (const step of pipeline) {
    const record = doc.steps[step];
    let result: unknown = null;
    if (record?.status === 'completed') {
      if (record.resultJson !== undefined) result = JSON.parse(record.resultJson);
      else if (record.resultKey !== undefined) result = await getJson(blobs, record.resultKey);
    }
    steps[step] = result === null ? null : trim(step, result, include);
  }
  return {
    documentId: doc.id,
    name: doc.name,
    status: doc.status,
    steps,
    error: doc.error,
  };
}
