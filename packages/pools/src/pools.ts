import { STEPS, type StepName } from '@docproc/catalog';
import type { Config } from '@docproc/config';

/** The app that serves each pool (its Deployment on Kubernetes, its processes under `docproc up`). */
export const POOL_APPS = {
  preprocess: 'worker-preprocessing',
  ocr: 'worker-ocr',
  nlp: 'worker-nlp',
  validate: 'worker-validation',
} as const satisfies Record<StepName, string>;

export type PoolApp = (typeof POOL_APPS)[StepName];

/** A pool's limits and goal. */
export interface PoolSettings {
  min: number;
  max: number;
  /** Tasks one worker runs at once. */
  concurrency: number;
  /** Waiting work should be done within this many seconds. */
  targetLatencySeconds: number;
  /** Cores one worker may use (0: no CPU check). */
  cpuLimit: number;
  /** MiB one worker may hold. */
  memoryLimitMb: number;
  /** Longest one task may run: how long a draining worker may take to finish. */
  taskTimeoutMs: number;
}

export function poolSettings(config: Config): Record<StepName, PoolSettings> {
  return Object.fromEntries(
    STEPS.map((pool) => [
      pool,
      {
        min: config.poolMin[pool],
        max: config.poolMax[pool],
        concurrency: config.concurrency[pool],
        targetLatencySeconds: config.poolTargetLatencySeconds[pool],
        cpuLimit: config.poolCpuLimit[pool],
        memoryLimitMb: config.poolMemoryLimitMb[pool],
        taskTimeoutMs: config.stepTimeoutMs[pool],
      },
    ]),
  ) as Record<StepName, PoolSettings>;
}

/** What the autoscaler measured of one pool over its last interval. */
export interface PoolSignals {
  pool: StepName;
  /** Workers running and taking tasks (draining ones do not count). */
  workers: number;
  /** Tasks that could run now: waiting, prioritized and delayed-but-due. */
  backlog: number;
  active: number;
  /** How long the oldest of them has waited. */
  oldestWaitSeconds: number;
  /** Tasks heading this way: the previous step's work, in this pool's tasks (an estimate). */
  incoming: number;
  /** Tasks that arrived per second (null until two samples were taken). */
  arrivalsPerSecond: number | null;
  /** Tasks that ended per second. */
  completionsPerSecond: number | null;
  /** Mean seconds one task ran (null while none has ended). */
  meanTaskSeconds: number | null;
  /** Share of attempts that failed, timed out or crashed (null with too few attempts to say). */
  errorRate: number | null;
  /** Mean resident memory of the pool's workers, from their heartbeats. */
  workerRssBytes: number | null;
  /** Mean cores each worker used over the interval. */
  workerCpuCores: number | null;
}
