export { BatchStore } from './batch-store';
export { documentFlow, enqueueBatch, stepJobId } from './flow';
export { recordKeys } from './keys';
export type { BatchRecord, DocumentRecord, NewBatch, NewDocument, StepRecord } from './records';
