import { readStepResult, type BatchRecord } from '@docproc/batches';
import { FINAL_BATCH_STATUSES, type NlpResult } from '@docproc/catalog';
import { BlobNotFoundError, blobKeys, getJson, putJson } from '@docproc/storage';
import type { AppDeps } from './deps';

/** Terms kept per document. */
const TERMS_PER_DOCUMENT = 10;
const CHUNK = 200;

export type BatchKeyTerms = Record<string, { term: string; score: number }[]>;

/**
 * Per document, the terms that set it apart from the rest of its batch: TF-IDF with the
 * batch's documents as the corpus (a term in every document weighs nothing, so words
 * every letter shares fall away without a stopword list). Made once, the first time the
 * results of an ended batch with an NLP step are read, and kept beside its results.
 */
export async function batchKeyTerms(deps: Pick<AppDeps, 'store' | 'blobs'>, batch: BatchRecord): Promise<BatchKeyTerms | null> {
  if (!batch.pipeline.includes('nlp') || !FINAL_BATCH_STATUSES.includes(batch.status)) return null;
  const key = blobKeys.batchKeyTerms(batch.id);
  try {
    return await getJson<BatchKeyTerms>(deps.blobs, key);
  } catch (err) {
    if (!(err instanceof BlobNotFoundError)) throw err;
  }
  const counts = new Map<string, Map<string, number>>();
  for (let from = 0; ; from += CHUNK) {
    const ids = await deps.store.getDocumentIds(batch.id, from, from + CHUNK - 1);
    if (ids.length === 0) break;
    for (const doc of await deps.store.getDocuments(ids)) {
      const record = doc?.steps.nlp;
      if (!doc || record?.status !== 'completed') continue;
      // only the tokens are wanted: no schema parse of every document's whole result
      const { tokens } = (await readStepResult(deps.blobs, record)) as Pick<NlpResult, 'tokens'>;
      const terms = new Map<string, number>();
      for (const token of tokens) {
        const term = token.toLowerCase();
        if (term.length > 2 && /\p{L}/u.test(term)) terms.set(term, (terms.get(term) ?? 0) + 1);
      }
      counts.set(doc.id, terms);
    }
  }
  const documentFrequency = new Map<string, number>();
  for (const terms of counts.values()) for (const term of terms.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const result: BatchKeyTerms = {};
  for (const [documentId, terms] of counts) {
    const length = [...terms.values()].reduce((a, b) => a + b, 0);
    result[documentId] = [...terms.entries()]
      .map(([term, count]) => ({ term, score: (count / length) * Math.log(counts.size / documentFrequency.get(term)!) }))
      .filter((t) => t.score > 0)
      .sort((a, b) => b.score - a.score || a.term.localeCompare(b.term))
      .slice(0, TERMS_PER_DOCUMENT)
      .map((t) => ({ term: t.term, score: Math.round(t.score * 10000) / 10000 }));
  }
  await putJson(deps.blobs, key, result);
  return result;
}
