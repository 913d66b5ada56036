import type { DefaultJobOptions } from 'bullmq';
import type { StepName } from './steps';

const keepCompleted = { age: 24 * 3600, count: 10_000 };
const keepFailed = { age: 7 * 24 * 3600 };

/** Default BullMQ options of each step's jobs: retries with exponential backoff. */
export const STEP_JOB_OPTIONS: Record<StepName, DefaultJobOptions> = {
  preprocess: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  ocr: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  nlp: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  validate: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
};
