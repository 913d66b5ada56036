import { taskPolicy, StepQueues } from '@docproc/batches';
import type { Config } from '@docproc/config';
import { poolSettings } from '@docproc/pools';
import { createRedis, type Logger, redisTarget } from '@docproc/runtime';
import { Autoscaler, policySettings } from './autoscaler';
import type { ScaleBackend } from './backends/backend';
import { MachineHeadroom } from './headroom';
import type { Headroom } from './policy';
import { SignalReader } from './signals';

export interface RunningAutoscaler {
  autoscaler: Autoscaler;
  /** Stops the loop and closes its connections. */
  stop(): Promise<void>;
}

/**
 * Starts the autoscaler loop over `backend`, with everything else from the config.
 * On this machine (local, dry-run) growth is bounded by the machine's idle cores and
 * memory; on Kubernetes the scheduler places the workers.
 */
export function startAutoscaler(config: Config, backend: ScaleBackend, logger: Logger): RunningAutoscaler {
  const redis = createRedis(redisTarget(config), 'worker', logger);
  const queues = new StepQueues(redis, config.keyPrefix, taskPolicy(config));
  const machine = backend.name === 'kubernetes' ? undefined : new MachineHeadroom();
  const pools = poolSettings(config);
  const autoscaler = new Autoscaler({
    redis,
    prefix: config.keyPrefix,
    backend,
    // Rates over four looks (20 s here, a minute on Kubernetes): smooth, yet a burst's end shows soon.
    reader: new SignalReader(redis, queues, config.keyPrefix, config.heartbeatMs, Math.max(15, 4 * config.autoscaleIntervalSeconds)),
    settings: pools,
    policy: policySettings(config),
    intervalSeconds: config.autoscaleIntervalSeconds,
    headroom: (): Headroom => machine?.read() ?? { idleCores: null, availableMemoryBytes: null },
    logger,
  });
  autoscaler.start();
  // One short line; every pool's settings are on the /autoscaler page and in its decisions.
  logger.info('autoscaler started', {
    backend: backend.name,
    intervalSeconds: config.autoscaleIntervalSeconds,
    pools: Object.entries(pools)
      .map(([pool, p]) => `${pool} ${p.min}..${p.max}`)
      .join(', '),
    maxWorkers: config.maxWorkers,
  });
  return {
    autoscaler,
    async stop() {
      await autoscaler.stop();
      await queues.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
