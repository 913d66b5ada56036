/** Redis keys of batch and document records (BullMQ keeps its own under the same prefix). */
export function recordKeys(prefix: string) {
  return {
    batches: `${prefix}:batches`,
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchDocuments: (batchId: string) => `${prefix}:batch:${batchId}:docs`,
    document: (documentId: string) => `${prefix}:doc:${documentId}`,
  };
}
