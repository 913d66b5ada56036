import type { JobsOptions } from 'bullmq';
import type { StepName } from './steps';

/** How a step's tasks are retried and kept; the numbers come from the config (the only home of defaults). */
export interface TaskPolicy {
  attempts: Record<StepName, number>;
  backoffMs: Record<StepName, number>;
  /** 0..1: how much of each backoff delay is random, so retries of many tasks do not arrive together. */
  backoffJitter: number;
  /** Finished tasks are kept this long (seconds), for Bull Board and for retries. */
  retentionSeconds: number;
}

/** The BullMQ options every task of `step` carries: retries with exponential backoff and jitter, retention. */
export function taskOptions(step: StepName, policy: TaskPolicy): JobsOptions {
  return {
    attempts: policy.attempts[step],
    backoff: { type: 'exponential', delay: policy.backoffMs[step], jitter: policy.backoffJitter },
    removeOnComplete: { age: policy.retentionSeconds },
    removeOnFail: { age: policy.retentionSeconds },
  };
}
