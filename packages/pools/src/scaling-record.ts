import type { StepName } from '@docproc/catalog';
import type { Cluster, Redis } from 'ioredis';
import type { PoolSignals } from './pools';

export type DecisionKind = 'up' | 'down' | 'steady' | 'held';

/** One pool's decision: how many workers it should run, from what, and why. */
export interface PoolDecision {
  pool: StepName;
  /** ms since the epoch */
  at: number;
  current: number;
  desired: number;
  /** What the measured need alone asked for, before stabilization, holds and limits. */
  recommended: number;
  kind: DecisionKind;
  /** In words, with the figures that led to it. */
  reason: string;
  signals: PoolSignals;
}

/** Where the autoscaler's decisions take effect. */
export type BackendName = 'local' | 'kubernetes' | 'dry-run';

/** One look of the autoscaler: every pool's decision, and what the backend made of it. */
export interface ScalingSnapshot {
  /** ms since the epoch */
  at: number;
  backend: BackendName;
  intervalSeconds: number;
  decisions: PoolDecision[];
  /** Per pool: its bounds, workers started again after a crash and draining (local), the backend's error in applying the decision. */
  pools: Partial<Record<StepName, { min: number; max: number; restarts?: number; draining?: number; error?: string }>>;
}

/** A point of the chart: per pool, [actual, desired] workers. */
export interface ScalingPoint {
  at: number;
  pools: Partial<Record<StepName, [actual: number, desired: number]>>;
}

const latestKey = (prefix: string) => `${prefix}:autoscaler:latest`;
const historyKey = (prefix: string) => `${prefix}:autoscaler:history`;

/** Keeps the autoscaler's latest look and an hour of points (writes and trims in one round trip). */
export async function writeScaling(redis: Redis | Cluster, prefix: string, snapshot: ScalingSnapshot, keepSeconds = 3600): Promise<void> {
  const point: ScalingPoint = { at: snapshot.at, pools: Object.fromEntries(snapshot.decisions.map((d) => [d.pool, [d.current, d.desired]])) };
  const keep = Math.ceil(keepSeconds / Math.max(0.2, snapshot.intervalSeconds));
  await redis
    .multi()
    .set(latestKey(prefix), JSON.stringify(snapshot))
    .lpush(historyKey(prefix), JSON.stringify(point))
    .ltrim(historyKey(prefix), 0, keep - 1)
    .exec();
}

/** The latest look (null before the autoscaler's first), and the points since `sinceMs`, oldest first (none when null). */
export async function readScaling(
  redis: Redis | Cluster,
  prefix: string,
  sinceMs: number | null = Date.now() - 3600_000,
): Promise<{ latest: ScalingSnapshot | null; history: ScalingPoint[] }> {
  const [latest, points] = await Promise.all([redis.get(latestKey(prefix)), sinceMs === null ? [] : redis.lrange(historyKey(prefix), 0, -1)]);
  const history = points
    .map((json) => JSON.parse(json) as ScalingPoint)
    .filter((p) => p.at >= sinceMs!)
    .reverse();
  return { latest: latest ? (JSON.parse(latest) as ScalingSnapshot) : null, history };
}
