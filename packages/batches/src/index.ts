export {
  BatchStore,
  type BatchHeader,
  type BatchListFilter,
  type BatchPosition,
  type PageProgress,
  type StepOutcome,
  type TaskSpan,
} from './batch-store';
export {
  FAN_OUT_CHUNK,
  StepQueues,
  completeStep,
  handPagesOn,
  jobPolicy,
  nextStep,
  queueCombine,
  queueNextStep,
  stepJobId,
  submitBatch,
  recordBatch,
  queueFirstSteps,
} from './chain';
export { deadLetter, deleteBatch, retryBatch } from './lifecycle';
export { removeDocumentTasks, removeQueuedSteps } from './task-removal';
export { oldestEventId, readEvents, toEvent, type BatchEvent, type BatchEventType } from './events';
export { INLINE_RESULT_BYTES, readStepResult, writeStepResult, type StoredResult } from './step-results';
export { recordKeys, type RecordKeys } from './keys';
export type { BatchRecord, DocumentRecord, NewBatch, NewDocument, ReviewDecision, StepRecord } from './records';
export { batchEndFields } from './batch-end';
export { DURATION_BUCKETS_SECONDS, readCounters, type PlatformCounters, type TaskCount, type TaskOutcome } from './counters';
export { backlogOf, queueSignals, type QueueSignals } from './queue-signals';
export { Definitions } from './definitions';
