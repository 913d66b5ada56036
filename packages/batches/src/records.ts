import type { BatchStatus, DocumentErrorInfo, JobOptions, StepName, TaskStatus } from '@docproc/catalog';

export interface NewDocument {
  id: string;
  name: string;
  blobKey: string;
  size: number;
  /** Set for a document refused at submit (an empty file): it is recorded failed and never queued. */
  error?: DocumentErrorInfo;
}

export interface NewBatch {
  id: string;
  priority: number;
  pipeline: StepName[];
  options: JobOptions;
  documents: NewDocument[];
  createdAt?: Date;
}

export interface BatchRecord {
  id: string;
  status: BatchStatus;
  priority: number;
  pipeline: StepName[];
  options: JobOptions;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StepRecord {
  status: TaskStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** The step's result: inline JSON (small) or a blob key (large); neither until it completed. */
  resultJson?: string;
  resultKey?: string;
  /** A paged step: its pages, once the step before handed them on. */
  pages?: { done: number; total: number };
}

export interface DocumentRecord {
  id: string;
  batchId: string;
  name: string;
  blobKey: string;
  size: number;
  status: TaskStatus;
  error: DocumentErrorInfo | null;
  /** How often the document was sent round again by a retry of its batch. */
  retries: number;
  startedAt: string | null;
  finishedAt: string | null;
  steps: Partial<Record<StepName, StepRecord>>;
}
