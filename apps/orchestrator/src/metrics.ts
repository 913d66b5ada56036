import type { RequestHandler } from 'express';
import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { DURATION_BUCKETS_SECONDS, REVIEW_DECISIONS, TASK_OUTCOMES } from '@docproc/batches';
import { CRASH_CAUSES, FINAL_BATCH_STATUSES, FINAL_TASK_STATUSES, PAGED_STEPS, STEPS } from '@docproc/catalog';
import type { Config } from '@docproc/config';
import type { PoolDecision } from '@docproc/pools';
import { isDeadLetterQueue, type PlatformState } from './platform-state';

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  /** For a histogram's _bucket, _sum and _count lines. */
  metricName?: string;
}

/**
 * A metric whose samples come from the platform state read for this scrape (Redis:
 * queues, heartbeats, the shared counters), not from this process's memory: so one
 * orchestrator's scrape shows every worker, and any orchestrator shows the same.
 */
class StateMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter' | 'histogram',
    private readonly samples: (state: PlatformState) => Sample[],
    private readonly current: () => PlatformState | undefined,
  ) {}

  get() {
    const state = this.current();
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: state ? this.samples(state) : [],
    });
  }
}

const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

const EMPTY_HISTOGRAM = { buckets: DURATION_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };

/**
 * A counter's samples with every label it can take, at 0 until its first event: a series
 * that appears only at its first event makes increase() and rate() miss that event.
 */
function zeroFilled(known: readonly string[], counted: Record<string, number>, label: string): Sample[] {
  return [...new Set([...known, ...Object.keys(counted)])].map((name) => ({ labels: { [label]: name }, value: counted[name] ?? 0 }));
}

/** As zeroFilled, for counters with two labels: every pair of the known values, and what was counted. */
function zeroFilledPairs<A extends string, B extends string>(
  labels: [A, B],
  known: [readonly string[], readonly string[]],
  counted: ({ count: number } & Record<A | B, string>)[],
): Sample[] {
  const [a, b] = labels;
  const values = new Map<string, Sample>();
  for (const x of known[0]) for (const y of known[1]) values.set(`${x}\0${y}`, { labels: { [a]: x, [b]: y }, value: 0 });
  for (const c of counted) values.set(`${c[a]}\0${c[b]}`, { labels: { [a]: c[a], [b]: c[b] }, value: c.count });
  return [...values.values()];
}

type Definition = [name: string, help: string, type: StateMetric['type'], samples: (s: PlatformState) => Sample[]];

/** The autoscaler's view of each pool, from its latest look (none before the first). */
const poolSamples = (s: PlatformState, value: (d: PoolDecision) => number | null): Sample[] =>
  (s.scaling?.decisions ?? []).flatMap((d) => {
    const v = value(d);
    return v === null ? [] : [{ labels: { pool: d.pool }, value: v }];
  });

const POOL_METRICS: Definition[] = [
  [
    'docproc_pool_workers',
    'Workers per pool as the autoscaler last saw them: actual (taking tasks), desired (its decision), draining (finishing a task before they exit, local).',
    'gauge',
    (s) =>
      (s.scaling?.decisions ?? []).flatMap((d) => [
        { labels: { pool: d.pool, state: 'actual' }, value: d.current },
        { labels: { pool: d.pool, state: 'desired' }, value: d.desired },
        ...(s.scaling?.pools[d.pool]?.draining !== undefined
          ? [{ labels: { pool: d.pool, state: 'draining' }, value: s.scaling.pools[d.pool]!.draining! }]
          : []),
      ]),
  ],
  [
    'docproc_pool_backlog_tasks',
    'Tasks a free worker of the pool could take now (waiting, prioritized, due retries).',
    'gauge',
    (s) => poolSamples(s, (d) => d.signals.backlog),
  ],
  [
    'docproc_pool_incoming_tasks',
    "Tasks heading to the pool from the previous step (the autoscaler's estimate).",
    'gauge',
    (s) => poolSamples(s, (d) => d.signals.incoming),
  ],
  [
    'docproc_pool_arrival_rate',
    "Tasks per second arriving at the pool, over the autoscaler's last four looks.",
    'gauge',
    (s) => poolSamples(s, (d) => d.signals.arrivalsPerSecond),
  ],
  [
    'docproc_pool_completion_rate',
    "Tasks per second the pool ended, over the autoscaler's last four looks.",
    'gauge',
    (s) => poolSamples(s, (d) => d.signals.completionsPerSecond),
  ],
  [
    'docproc_pool_task_seconds',
    "Mean seconds one task of the pool ran, over the autoscaler's last four looks (or all time).",
    'gauge',
    (s) => poolSamples(s, (d) => d.signals.meanTaskSeconds),
  ],
  [
    'docproc_pool_error_ratio',
    "Share of the pool's attempts that failed, timed out or crashed, over the autoscaler's last four looks.",
    'gauge',
    (s) => poolSamples(s, (d) => d.signals.errorRate),
  ],
  [
    'docproc_pool_restarts_total',
    'Worker processes of the pool started again after a crash (local backend).',
    'counter',
    (s) => poolSamples(s, (d) => s.scaling?.pools[d.pool]?.restarts ?? null),
  ],
  [
    'docproc_autoscaler_last_decision_timestamp_seconds',
    'When the autoscaler last looked (Unix time): far behind now, it is not running.',
    'gauge',
    (s) => (s.scaling ? [{ labels: {}, value: s.scaling.at / 1000 }] : []),
  ],
];

/** The platform's metrics, docproc_ prefixed, in base units (seconds, bytes), counters ending _total. */
const DEFINITIONS: Definition[] = [
  [
    'docproc_queue_tasks',
    'Tasks in each queue by BullMQ state (prioritized tasks are waiting too); the dead-letter queue holds tasks out of attempts.',
    'gauge',
    (s) =>
      s.queues.flatMap((q) =>
        isDeadLetterQueue(q)
          ? [{ labels: { queue: q.queue, state: 'dead_lettered' }, value: q.waiting + q.prioritized }]
          : QUEUE_STATES.map((state) => ({ labels: { queue: q.queue, state }, value: q[state] })),
      ),
  ],
  [
    'docproc_queue_oldest_waiting_age_seconds',
    'Seconds the oldest task that could run now has waited (wait, prioritized and due delayed tasks); 0 when none waits.',
    'gauge',
    (s) => s.queues.filter((q) => !isDeadLetterQueue(q)).map((q) => ({ labels: { queue: q.queue }, value: q.oldestWaitingSeconds })),
  ],
  [
    'docproc_task_duration_seconds',
    'How long task attempts ran, per step (page tasks for OCR).',
    'histogram',
    (s) =>
      Object.entries({ ...Object.fromEntries(STEPS.map((step) => [step, EMPTY_HISTOGRAM])), ...s.counters.durations }).flatMap(([step, h]) => [
        ...DURATION_BUCKETS_SECONDS.map((le, i) => ({
          metricName: 'docproc_task_duration_seconds_bucket',
          labels: { step, le: String(le) },
          value: h.buckets[i] ?? 0,
        })),
        { metricName: 'docproc_task_duration_seconds_bucket', labels: { step, le: '+Inf' }, value: h.count },
        { metricName: 'docproc_task_duration_seconds_sum', labels: { step }, value: h.sum },
        { metricName: 'docproc_task_duration_seconds_count', labels: { step }, value: h.count },
      ]),
  ],
  [
    'docproc_tasks_total',
    'Task attempts by step and outcome (completed, retried, failed, timeout, cancelled, crashed, dead_lettered).',
    'counter',
    (s) => zeroFilledPairs(['step', 'outcome'], [STEPS, TASK_OUTCOMES], s.counters.tasks),
  ],
  [
    'docproc_pages_processed_total',
    'Pages a step finished (preprocess: prepared; ocr: read).',
    'counter',
    (s) => zeroFilled(['preprocess', ...PAGED_STEPS], s.counters.pages, 'step'),
  ],
  [
    'docproc_documents_total',
    'Documents that ended, by final status (a retried document counts again when it ends again).',
    'counter',
    (s) => zeroFilled(FINAL_TASK_STATUSES, s.counters.documents, 'status'),
  ],
  [
    'docproc_batches_total',
    'Batches (jobs) that ended, by final status.',
    'counter',
    (s) => zeroFilled(FINAL_BATCH_STATUSES, s.counters.batches, 'status'),
  ],
  [
    'docproc_reviews_total',
    'Review decisions people took on documents validation sent to review, by decision (approved, rejected).',
    'counter',
    (s) => zeroFilled(REVIEW_DECISIONS, s.counters.reviews, 'decision'),
  ],
  [
    'docproc_reviews_waiting',
    'Documents waiting for a person to review them (GET /v1/reviews).',
    'gauge',
    (s) => [{ labels: {}, value: s.reviewsWaiting }],
  ],
  [
    'docproc_workers',
    'Live workers per pool (heartbeat seen within three intervals).',
    'gauge',
    (s) => {
      const pools = new Map<string, number>(STEPS.map((step) => [step, 0]));
      for (const w of s.workers) pools.set(w.step, (pools.get(w.step) ?? 0) + 1);
      return [...pools].map(([pool, value]) => ({ labels: { pool }, value }));
    },
  ],
  [
    'docproc_worker_active_tasks',
    'Tasks each live worker is running now.',
    'gauge',
    (s) => s.workers.map((w) => ({ labels: { pool: w.step, worker: w.id }, value: w.active })),
  ],
  [
    'docproc_worker_resident_memory_bytes',
    'Resident memory of each live worker process, from its last heartbeat.',
    'gauge',
    (s) => s.workers.map((w) => ({ labels: { pool: w.step, worker: w.id }, value: w.rssBytes })),
  ],
  [
    'docproc_worker_cpu_seconds_total',
    'CPU time (user + system) each live worker process used, from its last heartbeat.',
    'counter',
    (s) => s.workers.map((w) => ({ labels: { pool: w.step, worker: w.id }, value: w.cpuSeconds })),
  ],
  [
    'docproc_worker_event_loop_lag_seconds',
    'The longest each live worker process waited to run a callback between its last two heartbeats (a blocked loop cannot renew its task locks).',
    'gauge',
    (s) => s.workers.map((w) => ({ labels: { pool: w.step, worker: w.id }, value: w.eventLoopLagSeconds ?? 0 })),
  ],
  [
    'docproc_task_crashes_total',
    'Task runs that lost their worker, by step and how the worker was seen to end (crashed, exited, vanished, killed, lock_expired).',
    'counter',
    (s) => zeroFilledPairs(['step', 'cause'], [STEPS, CRASH_CAUSES], s.counters.crashes),
  ],
  [
    'docproc_documents_repaired_total',
    'Documents the platform found waiting on no task (their task failed by Redis itself, or never queued) and sent round again, by why.',
    'counter',
    (s) => zeroFilled(['orphaned'], s.counters.repairs, 'reason'),
  ],
  [
    'docproc_tenant_backlog_documents',
    "Each tenant's documents accepted and not ended (what fair share and the backlogDocuments quota read).",
    'gauge',
    (s) => Object.entries(s.counters.tenantLoads).map(([tenant, value]) => ({ labels: { tenant }, value })),
  ],
  [
    'docproc_tenant_documents_today',
    "Each tenant's documents accepted today, UTC (what the documentsPerDay quota reads).",
    'gauge',
    (s) => Object.entries(s.documentsToday).map(([tenant, value]) => ({ labels: { tenant }, value })),
  ],
  [
    'docproc_quota_refusals_total',
    "Submits refused by a tenant's quota, by tenant and quota.",
    'counter',
    (s) => s.counters.quotaRefusals.map(({ tenant, quota, count }) => ({ labels: { tenant, quota }, value: count })),
  ],
  ...POOL_METRICS,
];

/**
 * GET /metrics in Prometheus' text format: the platform (read from Redis at each
 * scrape) and this orchestrator process (prom-client's default metrics, as
 * docproc_orchestrator_process_*, docproc_orchestrator_nodejs_*).
 */
export function metricsRoute(readState: () => Promise<PlatformState>, config: Pick<Config, 'poolTargetLatencySeconds'>): RequestHandler {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'docproc_orchestrator_' });
  // Gauges named like counters (sums of the per-type nodejs_active_* gauges kept beside them),
  // which `promtool check metrics` refuses.
  for (const name of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`docproc_orchestrator_nodejs_active_${name}_total`);
  const redisUp = new Gauge({
    name: 'docproc_redis_up',
    help: `1 when this scrape read the platform from Redis within ${READ_TIMEOUT_MS / 1000} s, 0 when it could not (the platform's metrics are then left out).`,
    registers: [registry],
  });
  // The alerting rules (k8s/monitoring) compare each queue's wait with its target.
  const targetWait = new Gauge({
    name: 'docproc_queue_target_wait_seconds',
    help: 'Seconds waiting work should be done within, per queue (DOCPROC_POOL_TARGET_LATENCY): the autoscaler sizes each pool for it.',
    labelNames: ['queue'],
    registers: [registry],
  });
  for (const step of STEPS) targetWait.set({ queue: step }, config.poolTargetLatencySeconds[step]);
  let state: PlatformState | undefined;
  for (const [name, help, type, samples] of DEFINITIONS) {
    registry.registerMetric(new StateMetric(name, help, type, samples, () => state) as unknown as Metric);
  }
  return async (_req, res) => {
    state = await withinTime(readState(), READ_TIMEOUT_MS).catch(() => undefined);
    redisUp.set(state ? 1 : 0);
    res.type(registry.contentType).send(await registry.metrics());
  };
}

/** How long a scrape waits for Redis before it answers without the platform's metrics. */
const READ_TIMEOUT_MS = 5000;

const withinTime = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
