import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobOptions, StepName, StepPayload, StepResults } from '@docproc/catalog';
import { createLogger, type StepContext } from '@docproc/runtime';
import { LocalBlobStore, blobKeys } from '@docproc/storage';

/**
 * A step context over a fresh local blob store holding `document`, for
 * testing a processor function without Redis or BullMQ.
 */
export async function stepContext(
  step: StepName,
  document: Buffer,
  options: {
    pipeline?: StepName[];
    previous?: Partial<StepResults>;
    jobOptions?: JobOptions;
    name?: string;
    blobs?: LocalBlobStore;
    page?: StepPayload['page'];
    signal?: AbortSignal;
  } = {},
): Promise<StepContext & { blobs: LocalBlobStore; handedOn: { index: number; count: number }[] }> {
  const blobs = options.blobs ?? new LocalBlobStore(mkdtempSync(join(tmpdir(), 'docproc-step-')));
  const blobKey = blobKeys.original('batch', 'doc');
  /** The pages the processor handed on to a paged next step, in order. */
  const handedOn: { index: number; count: number }[] = [];
  await blobs.put(blobKey, document);
  return {
    payload: {
      batchId: 'batch',
      documentId: 'doc',
      step,
      pipeline: options.pipeline ?? [step],
      name: options.name ?? 'document',
      blobKey,
      options: options.jobOptions ?? {},
      ...(options.page ? { page: options.page } : {}),
    },
    resultOf: async (step) => options.previous?.[step],
    blobs,
    logger: createLogger('test', 'error'),
    signal: options.signal ?? new AbortController().signal,
    progress: async () => undefined,
    handedOn,
    pageReady: async (page, count) => void handedOn.push({ index: page.index, count }),
  };
}
