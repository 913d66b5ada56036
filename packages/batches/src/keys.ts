/** Redis keys of batch and document records (BullMQ keeps its own under the same prefix). */
export function recordKeys(prefix: string) {
  return {
    batches: `${prefix}:batches`,
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchDocuments: (batchId: string) => `${prefix}:batch:${batchId}:docs`,
    document: (documentId: string) => `${prefix}:doc:${documentId}`,
    /** The pages of a paged step (OCR) that are done, as a set of page indexes. */
    donePages: (documentId: string, step: string) => `${prefix}:doc:${documentId}:pages:${step}`,
  };
}
