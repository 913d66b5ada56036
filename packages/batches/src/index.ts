export { BatchStore, type PageProgress, type StepOutcome } from './batch-store';
export { StepQueues, enqueueBatch, queuePageJobs, recordStepAndQueueNext, removeQueuedSteps, nextStep, stepJobId, stepJobOptions } from './chain';
export { recordKeys } from './keys';
export type { BatchRecord, DocumentRecord, NewBatch, NewDocument, StepRecord } from './records';
