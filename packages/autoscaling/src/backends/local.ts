import { STEPS, type StepName } from '@docproc/catalog';
import { POOL_APPS } from '@docproc/pools';
import type { Platform } from '@docproc/supervisor';
import type { ScaleBackend } from './backend';

/**
 * Worker processes on this machine, under `docproc up`: more are started at once;
 * fewer means the extra ones drain (idle ones first) — they stop taking tasks,
 * finish the one they hold, and exit, so no page is lost or read twice.
 */
export function localBackend(platform: Platform): ScaleBackend {
  return {
    name: 'local',
    async workers() {
      return Object.fromEntries(STEPS.map((pool) => [pool, platform.running(POOL_APPS[pool])])) as Record<StepName, number>;
    },
    async scale(pool, workers, live) {
      const idleFirst = [...live].sort((a, b) => a.active - b.active).map((w) => w.pid);
      platform.scale(POOL_APPS[pool], workers, idleFirst);
    },
    details() {
      return Object.fromEntries(
        STEPS.map((pool) => [pool, { restarts: platform.restarts(POOL_APPS[pool]), draining: platform.draining(POOL_APPS[pool]) }]),
      );
    },
  };
}
