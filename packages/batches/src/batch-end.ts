import type { BatchRecord } from './records';

/** The fields of the "batch ended" log line: id, documents, outcome counts, seconds from submit to end. */
export function batchEndFields(batch: BatchRecord) {
  const seconds = batch.finishedAt ? (Date.parse(batch.finishedAt) - Date.parse(batch.createdAt)) / 1000 : null;
  return {
    batchId: batch.id,
    status: batch.status,
    documents: batch.total,
    completed: batch.completed,
    failed: batch.failed,
    cancelled: batch.cancelled,
    seconds,
  };
}
