export { BatchStore, type BatchHeader, type BatchListFilter, type BatchPosition } from './batch-store';
export { TaskLedger, TaskLostError, directRun, type PageProgress, type StepOutcome, type TaskRun, type WorkerEnd } from './task-ledger';
export { CRASH_CEILING_FACTOR, chargedCrashes, isCharged } from './crash-charges';
export {
  FAN_OUT_CHUNK,
  StepQueues,
  handPagesOn,
  taskPolicy,
  nextStep,
  queueCombine,
  queueNextStep,
  taskIdOf,
  submitBatch,
  recordBatch,
  queueFirstSteps,
} from './chain';
export { deleteBatch, retryBatch } from './lifecycle';
export { OrphanSweeper } from './orphans';
export { Lease } from './lease';
export { removeDocumentTasks, removeQueuedSteps } from './task-removal';
export { oldestEventId, readEvents, toEvent, type BatchEvent, type BatchEventType } from './events';
export { INLINE_RESULT_BYTES, readStepResult, writeStepResult, type StoredResult } from './step-results';
export { recordKeys, type RecordKeys } from './keys';
export type { AuditEntry, BatchRecord, DocumentRecord, NewBatch, NewDocument, ReviewDecision, StepRecord } from './records';
export { REVIEW_DECISIONS } from './records';
export { batchEndFields } from './batch-end';
export { DURATION_BUCKETS_SECONDS, TASK_OUTCOMES, readCounters, type PlatformCounters, type TaskCount, type TaskOutcome } from './counters';
export { backlogOf, queuedOf, queueSignals, type QueueSignals } from './queue-signals';
export { Definitions, SHARED, type DefinitionOwner } from './definitions';
export type { RedisClient } from './redis-client';
