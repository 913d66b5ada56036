import { STEPS, type StepName } from '@docproc/catalog';
import { type RedisClient, liveWorkers, staleAfterMs } from '@docproc/runtime';
import type { ScaleBackend } from './backend';

/** Decides and reports only: the workers are whatever heartbeats say runs, wherever it runs. */
export function dryRunBackend(redis: RedisClient, prefix: string, heartbeatMs: number): ScaleBackend {
  return {
    name: 'dry-run',
    async workers() {
      const live = await liveWorkers(redis, prefix, staleAfterMs(heartbeatMs));
      return Object.fromEntries(STEPS.map((pool) => [pool, live.filter((w) => w.step === pool).length])) as Record<StepName, number>;
    },
    async scale() {
      // reported, not done
    },
    details: () => ({}),
  };
}
