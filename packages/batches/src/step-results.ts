import { stepResultSchemas, type StepName, type StepPayload, type StepResults } from '@docproc/catalog';
import { blobKeys, getJson, type BlobStore } from '@docproc/storage';

/** Results up to this size stay in Redis with the document's record; larger ones go to the blob store. */
export const INLINE_RESULT_BYTES = 16 * 1024;

/** Where a step's result is kept: inline JSON in the record, or the blob key of a large one. */
export interface StoredResult {
  resultJson?: string;
  resultKey?: string;
}

/** Validates a step's result and keeps it: small ones for the record (inline), large ones in the blob store. */
export async function writeStepResult<S extends StepName>(
  blobs: BlobStore,
  payload: Pick<StepPayload, 'batchId' | 'documentId'>,
  step: S,
  result: StepResults[S],
): Promise<StoredResult> {
  const json = JSON.stringify(stepResultSchemas[step].parse(result));
  if (Buffer.byteLength(json) <= INLINE_RESULT_BYTES) return { resultJson: json };
  const resultKey = blobKeys.result(payload.batchId, payload.documentId, step);
  await blobs.put(resultKey, json);
  return { resultKey };
}

/** Reads a step's result as writeStepResult kept it; undefined when there is none (the step has not completed). */
export async function readStepResult<S extends StepName>(blobs: BlobStore, stored: StoredResult): Promise<StepResults[S] | undefined> {
  if (stored.resultJson !== undefined) return JSON.parse(stored.resultJson) as StepResults[S];
  if (stored.resultKey !== undefined) return getJson<StepResults[S]>(blobs, stored.resultKey);
  return undefined;
}
