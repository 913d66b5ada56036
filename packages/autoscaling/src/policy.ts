import type { StepName } from '@docproc/catalog';
import type { DecisionKind, PoolDecision, PoolSettings, PoolSignals } from '@docproc/pools';

/** The platform-wide rules of the policy. */
export interface PolicySettings {
  /** All pools together never run more workers than this. */
  maxWorkers: number;
  /** Above this share of failed attempts a pool does not grow: more workers would fail faster. */
  maxErrorRate: number;
  /** A pool shrinks only to the highest need seen over this many seconds (HPA's stabilization window). */
  downStabilizationSeconds: number;
  /** ... and not within this many seconds of its last change. */
  cooldownSeconds: number;
  /** A change smaller than this share of the current size is not made (HPA: 0.1). */
  tolerance: number;
}

/** What the machine can still give (local); null where a scheduler decides (Kubernetes). */
export interface Headroom {
  idleCores: number | null;
  availableMemoryBytes: number | null;
}

/** The recommendations a pool had over the stabilization window, and its last change. */
export interface PoolHistory {
  recommendations: { at: number; workers: number }[];
  lastChangeAt: number | null;
}

export interface PolicyInput {
  at: number;
  pools: PoolSignals[];
  settings: Record<StepName, PoolSettings>;
  policy: PolicySettings;
  headroom: Headroom;
  history: Partial<Record<StepName, PoolHistory>>;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The workers a pool needs now, from its work and speed, within min and max, and why.
 * Enough to finish the work in sight (waiting, running and heading its way) within
 * the target latency at the measured task time; enough to keep up with arrivals; and,
 * when the oldest task has already waited past the target, more in proportion (the
 * measured speed was too hopeful). One worker at least while there is work.
 */
function need(s: PoolSignals, settings: PoolSettings, tolerance: number): { workers: number; why: string } {
  const work = s.backlog + s.active + s.incoming;
  const parts: { workers: number; why: string }[] = [];
  const described = `${plural(work, 'task')} (${s.backlog} waiting, ${s.active} running${s.incoming ? `, ${s.incoming} on the way` : ''})`;
  if (s.meanTaskSeconds !== null && s.meanTaskSeconds > 0) {
    const perWorker = settings.concurrency / s.meanTaskSeconds; // tasks per second
    parts.push({
      workers: Math.ceil(work / (perWorker * settings.targetLatencySeconds) - 1e-9),
      why: `${described} at ${round(s.meanTaskSeconds, 2)} s each to finish within ${settings.targetLatencySeconds} s`,
    });
    if (s.arrivalsPerSecond) {
      parts.push({
        workers: Math.ceil(s.arrivalsPerSecond / perWorker - 1e-9),
        why: `${round(s.arrivalsPerSecond, 2)} tasks/s arriving at ${round(s.meanTaskSeconds, 2)} s each`,
      });
    }
  } else if (s.backlog + s.active > 0) {
    // Nothing measured yet: a slot for each task here (what is still on the way gets one worker, below).
    parts.push({ workers: Math.ceil((s.backlog + s.active) / settings.concurrency), why: `${described}, no task time measured yet: a slot each` });
  }
  if (s.oldestWaitSeconds > settings.targetLatencySeconds && s.workers > 0) {
    parts.push({
      workers: Math.ceil((s.workers * s.oldestWaitSeconds) / settings.targetLatencySeconds),
      why: `the oldest task has waited ${round(s.oldestWaitSeconds)} s, past the ${settings.targetLatencySeconds} s target`,
    });
  }
  let best = parts.reduce((a, b) => (b.workers > a.workers ? b : a), { workers: 0, why: 'no work' });
  if (work > 0 && best.workers === 0) best = { workers: 1, why: `${described}: one worker at least while there is work` };
  // HPA's tolerance: a change this small is noise.
  if (s.workers > 0 && best.workers > 0 && Math.abs(best.workers / s.workers - 1) <= tolerance + 1e-9) best = { ...best, workers: s.workers };
  const clamped = Math.min(settings.max, Math.max(settings.min, best.workers));
  const bound = clamped > best.workers ? ` (min ${settings.min})` : clamped < best.workers ? ` (${best.workers} wanted, max ${settings.max})` : '';
  return { workers: clamped, why: `${best.why}${bound}` };
}

/** How pressed a pool is: the share of its target latency its work would take now. */
function pressure(s: PoolSignals, settings: PoolSettings): number {
  const byWait = s.oldestWaitSeconds / settings.targetLatencySeconds;
  const work = s.backlog + s.active + s.incoming;
  const byWork = s.meanTaskSeconds
    ? (work * s.meanTaskSeconds) / (Math.max(1, s.workers) * settings.concurrency * settings.targetLatencySeconds)
    : work;
  return Math.max(byWait, byWork);
}

/**
 * The policy: for every pool, how many workers it should run now, and why. Pure:
 * everything it knows comes in `input`, and the history it keeps comes back out.
 *
 * Up at once (the need is measured, waiting costs users' time); down only to the
 * highest need over the stabilization window and not within the cooldown of the
 * last change (no flapping under steady load); a pool over its error rate does not
 * grow; growth stops where the machine has no cores or memory left for another
 * worker, or at the global maximum, the most pressed pools served first.
 */
export function decide(input: PolicyInput): { decisions: PoolDecision[]; history: Record<StepName, PoolHistory> } {
  const { at, policy } = input;
  const history = {} as Record<StepName, PoolHistory>;
  const planned = input.pools.map((s) => {
    const settings = input.settings[s.pool];
    const past = input.history[s.pool] ?? { recommendations: [], lastChangeAt: null };
    const { workers: recommended, why } = need(s, settings, policy.tolerance);
    // A first look knows nothing of past need: it counts the pool's size as needed.
    const seed = past.recommendations.length === 0 ? [{ at, workers: s.workers }] : past.recommendations;
    const recommendations = [...seed.filter((r) => r.at > at - policy.downStabilizationSeconds * 1000), { at, workers: recommended }];
    history[s.pool] = { recommendations, lastChangeAt: past.lastChangeAt };
    let desired = recommended;
    let reason = why;
    let kind: DecisionKind = recommended > s.workers ? 'up' : recommended < s.workers ? 'down' : 'steady';
    // Above max (max was lowered) a pool comes down to max at once; below that, slowly.
    const ceiling = Math.min(s.workers, settings.max);
    if (recommended < ceiling) {
      const highest = Math.max(...recommendations.map((r) => r.workers));
      const sinceChange = past.lastChangeAt === null ? Infinity : (at - past.lastChangeAt) / 1000;
      if (sinceChange < policy.cooldownSeconds) {
        desired = ceiling;
        reason = `${why}; ${ceiling} for now: changed ${round(sinceChange)} s ago, cooldown ${policy.cooldownSeconds} s`;
      } else if (highest > recommended) {
        desired = Math.min(ceiling, highest);
        reason = `${why}; ${desired} for now: ${highest} needed within the last ${policy.downStabilizationSeconds} s`;
      }
      kind = desired < s.workers ? 'down' : 'held';
    }
    return { signals: s, settings, recommended, desired, reason, kind };
  });

  // Growth is rationed: error rate first, then the machine's cores and memory and the
  // global maximum, shared out to the most pressed pools first.
  let budget = policy.maxWorkers - planned.reduce((n, p) => n + Math.min(p.desired, p.signals.workers), 0);
  let idleCores = input.headroom.idleCores;
  let memory = input.headroom.availableMemoryBytes;
  const growing = planned.filter((p) => p.desired > p.signals.workers);
  growing.sort((a, b) => pressure(b.signals, b.settings) - pressure(a.signals, a.settings));
  for (const p of growing) {
    const { signals: s, settings } = p;
    const wanted = p.desired - s.workers;
    if (s.errorRate !== null && s.errorRate > policy.maxErrorRate && s.workers > 0) {
      p.desired = s.workers;
      p.kind = 'held';
      p.reason = `${p.reason}; holding ${s.workers}: ${Math.round(s.errorRate * 100)} % of attempts fail (over ${Math.round(policy.maxErrorRate * 100)} %), more workers would fail faster`;
      continue;
    }
    const limits: { fit: number; why: string }[] = [{ fit: budget, why: `all pools together are at DOCPROC_MAX_WORKERS ${policy.maxWorkers}` }];
    // From zero one worker always starts: the work must move, if slowly. Otherwise a worker
    // needs half its CPU limit idle at least (the rest it takes from what is there).
    const fromZero = s.workers === 0 ? 1 : 0;
    if (idleCores !== null && settings.cpuLimit > 0) {
      limits.push({
        fit: Math.max(fromZero, Math.floor(idleCores / settings.cpuLimit + 0.5)),
        why: `${round(Math.max(0, idleCores))} idle cores, ${settings.cpuLimit} per worker`,
      });
    }
    if (memory !== null) {
      const perWorker = settings.memoryLimitMb * 1024 * 1024;
      limits.push({
        fit: Math.floor(memory / perWorker),
        why: `${Math.round(memory / 2 ** 20)} MiB available, ${settings.memoryLimitMb} MiB per worker`,
      });
    }
    const tightest = limits.reduce((a, b) => (b.fit < a.fit ? b : a));
    const granted = Math.max(0, Math.min(wanted, tightest.fit));
    if (granted < wanted) {
      p.desired = s.workers + granted;
      p.kind = granted > 0 ? 'up' : 'held';
      p.reason = `${p.reason}; ${granted > 0 ? `up by ${granted} of ${wanted}` : `holding ${s.workers}`}: ${tightest.why}`;
    }
    budget -= granted;
    if (idleCores !== null) idleCores -= granted * settings.cpuLimit;
    if (memory !== null) memory -= granted * settings.memoryLimitMb * 1024 * 1024;
  }

  const decisions = planned.map((p): PoolDecision => {
    if (p.desired !== p.signals.workers) history[p.signals.pool].lastChangeAt = at;
    const sizes = p.desired === p.signals.workers ? `at ${p.desired}` : `${p.signals.workers} → ${p.desired}`;
    return {
      pool: p.signals.pool,
      at,
      current: p.signals.workers,
      desired: p.desired,
      recommended: p.recommended,
      kind: p.kind,
      reason: `${p.kind} ${sizes}: ${p.reason}`,
      signals: p.signals,
    };
  });
  return { decisions, history };
}
