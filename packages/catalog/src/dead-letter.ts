import { z } from 'zod';
import { documentErrorSchema } from './models';
import { stepPayloadSchema } from './payloads';
import { stepNameSchema } from './models';

/** The queue that keeps tasks that ran out of attempts (or crashed their worker too often). No worker takes from it. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

/** One failed attempt of a task, as the error history keeps it. */
export const failedAttemptSchema = z.object({
  step: stepNameSchema,
  page: z.number().int().nullable(),
  attempt: z.number().int(),
  code: documentErrorSchema.shape.code,
  message: z.string(),
  /** The worker that ran it: "<step>-<id> pid <pid> on <host>". */
  worker: z.string(),
  startedAt: z.string(),
  failedAt: z.string(),
});
export type FailedAttempt = z.infer<typeof failedAttemptSchema>;

/** A dead-lettered task: what it was, and every attempt's failure. */
export const deadLetterSchema = z.object({
  batchId: z.string(),
  documentId: z.string(),
  step: stepNameSchema,
  page: z.number().int().nullable(),
  /** The queue and task id it failed on. */
  queue: z.string(),
  taskId: z.string(),
  payload: stepPayloadSchema,
  attempts: z.array(failedAttemptSchema),
  deadAt: z.string(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;
