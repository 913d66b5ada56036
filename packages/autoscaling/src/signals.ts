import {
  backlogOf,
  queuedOf,
  queueSignals,
  readCounters,
  recordKeys,
  type PlatformCounters,
  type QueueSignals,
  type StepQueues,
} from '@docproc/batches';
import { STEPS, type StepName } from '@docproc/catalog';
import type { PoolSignals } from '@docproc/pools';
import { type RedisClient, liveWorkers, staleAfterMs, type WorkerInfo } from '@docproc/runtime';

interface Sample {
  at: number;
  counters: PlatformCounters;
  /** Per pool: tasks in the system (backlog, running, in backoff). */
  held: Record<StepName, number>;
}

/** Attempts that ended a task (retried and crashed ones come back). */
const DEPARTURES = ['completed', 'failed', 'timeout', 'cancelled'];
/** Attempts that went wrong. */
const ERRORS = ['failed', 'timeout', 'crashed', 'retried'];
const ATTEMPTS = [...DEPARTURES, 'crashed', 'retried'];
/** Fewer attempts than this in the window say nothing about an error rate. */
const MIN_ATTEMPTS_FOR_ERROR_RATE = 5;

const taskCount = (c: PlatformCounters, step: StepName, outcomes: string[]) =>
  c.tasks.filter((t) => t.step === step && outcomes.includes(t.outcome)).reduce((n, t) => n + t.count, 0);

/**
 * Reads what the policy needs of every pool: the queues now, and rates over a
 * sliding window from the platform's counters (every worker adds to them), so a
 * restarted autoscaler needs one window, not a history of its own.
 */
export class SignalReader {
  private samples: Sample[] = [];
  private cpu = new Map<string, { at: number; cpuSeconds: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly queues: StepQueues,
    private readonly prefix: string,
    private readonly heartbeatMs: number,
    /** Rates are measured over this many seconds. */
    private readonly windowSeconds: number,
  ) {}

  async read(workers: Record<StepName, number>, now = Date.now()): Promise<{ pools: PoolSignals[]; live: WorkerInfo[] }> {
    const [queues, counters, live] = await Promise.all([
      Promise.all(STEPS.map((step) => queueSignals(this.queues.get(step), this.redis, now))),
      readCounters(this.redis, recordKeys(this.prefix).counters),
      liveWorkers(this.redis, this.prefix, staleAfterMs(this.heartbeatMs)),
    ]);
    const byStep = Object.fromEntries(queues.map((q, i) => [STEPS[i], q])) as Record<StepName, QueueSignals>;
    const held = Object.fromEntries(STEPS.map((step) => [step, queuedOf(byStep[step]) + byStep[step].active])) as Record<StepName, number>;
    const base = this.samples.find((s) => s.at >= now - this.windowSeconds * 1000) ?? this.samples.at(-1);
    this.samples = [...this.samples.filter((s) => s.at >= now - this.windowSeconds * 1000), { at: now, counters, held }];
    const cpu = this.workerCpu(live);

    const pools = STEPS.map((pool, index): PoolSignals => {
      const q = byStep[pool];
      const mine = live.filter((w) => w.step === pool);
      const seconds = base ? (now - base.at) / 1000 : 0;
      const delta = (outcomes: string[]) => (base ? taskCount(counters, pool, outcomes) - taskCount(base.counters, pool, outcomes) : 0);
      const departures = delta(DEPARTURES);
      const attempts = delta(ATTEMPTS);
      const rate = (n: number) => (base && seconds > 0 ? Math.max(0, n) / seconds : null);
      const previous = index > 0 ? STEPS[index - 1]! : null;
      return {
        pool,
        workers: workers[pool],
        backlog: backlogOf(q),
        active: q.active,
        oldestWaitSeconds: q.oldestWaitingSeconds,
        incoming: previous ? Math.round((backlogOf(byStep[previous]) + byStep[previous].active) * fanOut(counters, previous, pool)) : 0,
        arrivalsPerSecond: rate(held[pool] - (base?.held[pool] ?? 0) + departures),
        completionsPerSecond: rate(departures),
        meanTaskSeconds: meanTaskSeconds(counters, base?.counters, pool),
        errorRate: attempts >= MIN_ATTEMPTS_FOR_ERROR_RATE ? delta(ERRORS) / attempts : null,
        workerRssBytes: mine.length ? mine.reduce((n, w) => n + w.rssBytes, 0) / mine.length : null,
        workerCpuCores: mean(mine.map((w) => cpu.get(w.id)).filter((c): c is number => c !== undefined)),
      };
    });
    return { pools, live };
  }

  /** Cores each worker used since the last look, from the CPU seconds in its heartbeats. */
  private workerCpu(live: WorkerInfo[]): Map<string, number> {
    const used = new Map<string, number>();
    const seen = new Map<string, { at: number; cpuSeconds: number }>();
    for (const w of live) {
      const at = Date.parse(w.lastSeen);
      const before = this.cpu.get(w.id);
      if (before && at > before.at) used.set(w.id, (w.cpuSeconds - before.cpuSeconds) / ((at - before.at) / 1000));
      seen.set(w.id, before && at <= before.at ? before : { at, cpuSeconds: w.cpuSeconds });
    }
    this.cpu = seen;
    return used;
  }
}

function mean(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** Mean task time over the window; with no task ended in it, over all time (the counters keep it). */
function meanTaskSeconds(now: PlatformCounters, before: PlatformCounters | undefined, pool: StepName): number | null {
  const total = now.durations[pool];
  if (!total || total.count === 0) return null;
  const earlier = before?.durations[pool];
  const count = total.count - (earlier?.count ?? 0);
  return count > 0 ? (total.sum - (earlier?.sum ?? 0)) / count : total.sum / total.count;
}

/**
 * Tasks of `to` one task of `from` turns into, as measured so far: preprocessing
 * hands OCR a task per page; OCR's page tasks come together into one NLP task per
 * document; the rest go one to one.
 */
function fanOut(counters: PlatformCounters, from: StepName, to: StepName): number {
  const documents = taskCount(counters, 'preprocess', ['completed']);
  const pagesPerDocument = documents > 0 ? (counters.pages.preprocess ?? documents) / documents : 1;
  if (from === 'preprocess' && to === 'ocr') return pagesPerDocument;
  if (from === 'ocr' && to === 'nlp') return 1 / Math.max(1, pagesPerDocument);
  return 1;
}
