import { z } from 'zod';
import { documentErrorSchema } from './models';
import { stepPayloadSchema } from './payloads';
import { stepNameSchema } from './models';

/** The queue that keeps tasks that ran out of attempts (or crashed their worker too often). No worker takes from it. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

/** How a worker that held a task was seen to end (see failedAttemptSchema.cause). */
export const CRASH_CAUSES = ['crashed', 'exited', 'vanished', 'killed', 'lock_expired'] as const;
export type CrashCause = (typeof CRASH_CAUSES)[number];

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
  /**
   * A crash (worker_crashed): how the worker was seen to end — `crashed` (a fatal signal of its
   * own: abort, segfault, V8 out of heap), `exited` (a non-zero exit), `vanished` (its heartbeat
   * stopped, no exit seen), `killed` (stopped from outside: SIGKILL, SIGTERM), `lock_expired`
   * (alive, but it did not renew the task's lock in time).
   */
  cause: z.enum(CRASH_CAUSES).optional(),
  /** A crash: the other tasks the gone worker held (a crash with none can only be this task's doing). */
  neighbours: z.array(z.string()).optional(),
  /** A crash: whether it counts toward the document's crash limit. */
  charged: z.boolean().optional(),
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
