import type { StepName } from '@docproc/catalog';
import type { Config } from '@docproc/config';
import { writeScaling, type PoolDecision, type PoolSettings, type ScalingSnapshot } from '@docproc/pools';
import type { RedisClient, HealthChecks, Logger } from '@docproc/runtime';
import type { ScaleBackend } from './backends/backend';
import { decide, type Headroom, type PolicySettings, type PoolHistory } from './policy';
import type { SignalReader } from './signals';

export interface AutoscalerDeps {
  redis: RedisClient;
  prefix: string;
  backend: ScaleBackend;
  reader: SignalReader;
  settings: Record<StepName, PoolSettings>;
  policy: PolicySettings;
  intervalSeconds: number;
  /** The machine's headroom (local), or none where a scheduler places workers. */
  headroom: () => Headroom;
  logger: Logger;
}

/** The policy's rules from the config (the only home of their defaults). */
export function policySettings(config: Config): PolicySettings {
  return {
    maxWorkers: config.maxWorkers,
    maxErrorRate: config.autoscaleMaxErrorRate,
    downStabilizationSeconds: config.autoscaleDownStabilizationSeconds,
    cooldownSeconds: config.autoscaleCooldownSeconds,
    tolerance: 0.1,
  };
}

/**
 * The loop: every interval, read the signals, decide, have the backend carry it out,
 * and keep the decision (with its inputs and reason) in Redis for `/api/stats`,
 * `/metrics` and the chart. A change is logged at info with its reason; a pool that
 * stays as it is, at debug.
 */
export class Autoscaler {
  private history: Partial<Record<StepName, PoolHistory>> = {};
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private lastKind = new Map<StepName, string>();
  private lastError = '';
  private lastScaleError = new Map<StepName, string>();
  private lastLookEndedAt = Date.now();

  constructor(private readonly deps: AutoscalerDeps) {}

  start(): void {
    const loop = () => {
      this.running = this.tick()
        .then(() => (this.lastError = ''))
        .catch((err: Error) => {
          // Once per new error, not every look: a cluster that refuses says so every 15 s.
          if (err.message !== this.lastError) this.deps.logger.warn('autoscaler look failed', { error: err.message });
          this.lastError = err.message;
        })
        .finally(() => {
          this.lastLookEndedAt = Date.now();
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.deps.intervalSeconds * 1000);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  /**
   * For /healthz and /readyz: live while looks keep ending (a look that hangs past three
   * intervals and a minute means a stuck loop); ready while the last one succeeded.
   */
  health(): HealthChecks {
    const limitMs = (3 * this.deps.intervalSeconds + 60) * 1000;
    const live = () => {
      const age = Date.now() - this.lastLookEndedAt;
      return age > limitMs ? `no look has ended for ${Math.round(age / 1000)} s` : null;
    };
    return { live, ready: () => live() ?? (this.lastError === '' ? null : `the last look failed: ${this.lastError}`) };
  }

  /** Stops looking (a look under way finishes first). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One look: signals, decisions, the backend, the record. */
  async tick(now = Date.now()): Promise<ScalingSnapshot> {
    const { backend, logger } = this.deps;
    const workers = await backend.workers();
    const { pools, live } = await this.deps.reader.read(workers, now);
    const { decisions, history } = decide({
      at: now,
      pools,
      settings: this.deps.settings,
      policy: this.deps.policy,
      headroom: this.deps.headroom(),
      history: this.history,
    });
    this.history = history;
    const errors: Partial<Record<StepName, string>> = {};
    for (const d of decisions) {
      if (d.desired !== d.current) {
        try {
          await backend.scale(
            d.pool,
            d.desired,
            live.filter((w) => w.step === d.pool),
          );
        } catch (err) {
          errors[d.pool] = (err as Error).message;
          const fields = { pool: d.pool, desired: d.desired, backend: backend.name, error: errors[d.pool] };
          if (this.lastScaleError.get(d.pool) !== errors[d.pool]) logger.error('cannot scale the pool', fields);
          else logger.debug('cannot scale the pool (still)', fields);
        }
      }
      this.lastScaleError.set(d.pool, errors[d.pool] ?? '');
      this.log(d);
    }
    const details = backend.details();
    const snapshot: ScalingSnapshot = {
      at: now,
      backend: backend.name,
      intervalSeconds: this.deps.intervalSeconds,
      decisions,
      pools: Object.fromEntries(
        decisions.map((d) => {
          const { min, max } = this.deps.settings[d.pool];
          return [d.pool, { min, max, ...details[d.pool], ...(errors[d.pool] ? { error: errors[d.pool] } : {}) }];
        }),
      ),
    };
    await writeScaling(this.deps.redis, this.deps.prefix, snapshot);
    return snapshot;
  }

  private log(d: PoolDecision): void {
    const changed = d.desired !== d.current || this.lastKind.get(d.pool) !== d.kind;
    this.lastKind.set(d.pool, d.kind);
    const { pool: _pool, ...signals } = d.signals;
    const fields = { pool: d.pool, current: d.current, desired: d.desired, kind: d.kind, backend: this.deps.backend.name, signals };
    if (changed && d.kind !== 'steady') this.deps.logger.info(`${d.pool} pool ${d.reason}`, fields);
    else this.deps.logger.debug(`${d.pool} pool ${d.reason}`, fields);
  }
}
