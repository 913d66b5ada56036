import { queueName, type StepName } from '@docproc/catalog';

/** Redis keys of batch and document records (BullMQ keeps its own under the same prefix). */
export function recordKeys(prefix: string) {
  return {
    /** BullMQ's lock of a task (its value: the token of the run that holds it). */
    taskLock: (step: StepName, taskId: string) => `${prefix}:${queueName(step)}:${taskId}:lock`,
    /** BullMQ's own keys of a step's queue start with this. */
    queueKeys: (step: StepName) => `${prefix}:${queueName(step)}:`,
    /** Tasks released from a worker seen gone, whose crash is recorded already (BullMQ's 'stalled' event skips them). */
    released: `${prefix}:tasks:released`,
    /** Every batch, scored by creation time (ms): the listing. */
    batches: `${prefix}:batches`,
    /** A tenant's batches, scored by creation time (ms): its listing. */
    tenantBatches: (tenant: string) => `${prefix}:tenant:${tenant}:batches`,
    /** A tenant's documents accepted on a day (UTC, YYYY-MM-DD), kept two days. */
    tenantDay: (tenant: string, day: string) => `${prefix}:tenant:${tenant}:day:${day}`,
    /** Who did what to the batch (JSON entries: submitted, cancelled, retried, reviewed), oldest first. */
    audit: (batchId: string) => `${prefix}:batch:${batchId}:audit`,
    /** Finished batches, scored by when they ended (ms): what retention expires. */
    finished: `${prefix}:batches:finished`,
    /** Batches whose first tasks are still being queued (fan-out goes on after the API answered). */
    fanningOut: `${prefix}:batches:fanning-out`,
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchDocuments: (batchId: string) => `${prefix}:batch:${batchId}:docs`,
    /** The batch's progress events, a Redis stream (ids are the events' ids). */
    events: (batchId: string) => `${prefix}:batch:${batchId}:events`,
    document: (documentId: string) => `${prefix}:doc:${documentId}`,
    /** The pages of a paged step (OCR) that are done, as a set of page indexes. */
    donePages: (documentId: string, step: string) => `${prefix}:doc:${documentId}:pages:${step}`,
    /** The document's failed attempts (JSON each), the error history of its tasks. */
    failedAttempts: (documentId: string) => `${prefix}:doc:${documentId}:attempts`,
    /** The platform's counters (a hash; see metrics/counters.ts): what /metrics reports, whoever wrote them. */
    counters: `${prefix}:counters`,
    /** Documents waiting for a person's review, as "batchId/documentId" scored by when they began to wait (ms). */
    reviews: `${prefix}:reviews`,
    /** Batches whose events go to a webhook: batch id to JSON { url, events, tenant } (the dispatcher follows them). */
    webhookTargets: `${prefix}:webhooks:targets`,
    /** How far the dispatcher read each followed batch's events (batch id to stream id). */
    webhookCursors: `${prefix}:webhooks:cursors`,
    /** One delivery (a hash: batch, event, url, status, payload) and its attempts (a list of JSON). */
    webhookDelivery: (deliveryId: string) => `${prefix}:webhook:${deliveryId}`,
    webhookAttempts: (deliveryId: string) => `${prefix}:webhook:${deliveryId}:attempts`,
    /** A batch's deliveries, in the order they were made. */
    batchWebhooks: (batchId: string) => `${prefix}:batch:${batchId}:webhooks`,
    /** Pub/sub channel on which cancelled batch ids are announced to every worker. */
    cancelChannel: `${prefix}:cancel`,
  };
}
export type RecordKeys = ReturnType<typeof recordKeys>;
