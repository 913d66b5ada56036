import type { ChainableCommander } from 'ioredis';
import type { StepName } from '@docproc/catalog';
import type { RedisClient } from './redis-client';

/**
 * The platform's counters, one Redis hash that every process adds to — workers
 * (tasks, durations, pages), the Lua scripts (documents and batches as they end)
 * — so one scrape of the orchestrator shows the whole platform and the counts
 * outlive any process. Fields: `tasks:<step>:<outcome>`, `duration:<step>:in:<s>` (the
 * tasks whose duration fell in the bucket up to <s>, or `+Inf`: one field a task, made
 * cumulative when read), `duration:<step>:ms` (their sum, whole ms), `pages:<step>`,
 * `documents:<status>`, `batches:<status>`, `reviews:<decision>`, `crashes:<step>:<cause>`,
 * `repairs:<why>`, `tenant-open:<tenant>` (documents accepted and not ended; the scripts'
 * tenantLoad adds and takes), `quota-refused:<tenant>:<quota>`.
 */

/** The counters' field of a tenant's documents accepted and not ended. */
export const tenantLoadField = (tenant: string) => `tenant-open:${tenant}`;
export const quotaRefusalField = (tenant: string, quota: string) => `quota-refused:${tenant}:${quota}`;

/** How a task attempt ended. */
export const TASK_OUTCOMES = ['completed', 'retried', 'failed', 'timeout', 'cancelled', 'crashed', 'dead_lettered'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

/**
 * Upper bounds (seconds) of the task duration histogram: a text snippet to the longest task
 * a step may run (preprocessing's DOCPROC_STEP_TIMEOUT_MS, 30 minutes), so a quantile of
 * slow tasks is read from a bucket, not guessed past the last bound.
 */
export const DURATION_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800] as const;

export interface TaskCount {
  step: StepName;
  outcome: TaskOutcome;
  /** A crashed run: how its worker ended (counted as crashes:<step>:<cause>). */
  cause?: string;
  /** How long the attempt ran; none for outcomes noted after the fact (crashed, dead-lettered). */
  seconds?: number;
  /** Pages the task finished (a page task: 1; preprocessing: the pages it handed on). */
  pages?: number;
}

/** The histogram bucket of a duration: the first bound it does not pass, '+Inf' past the last. */
const bucketOf = (seconds: number) => String(DURATION_BUCKETS_SECONDS.find((bound) => seconds <= bound) ?? '+Inf');

/**
 * The counter fields one task's outcome adds to, with their increments (whole numbers, as
 * strings: HINCRBY, as the Lua scripts add them) — three or four fields a task, so a task's
 * end costs Redis a few increments, not one per histogram bucket.
 */
export function taskCounterFields(task: TaskCount): [field: string, increment: string][] {
  const fields: [string, string][] = [[`tasks:${task.step}:${task.outcome}`, '1']];
  if (task.seconds !== undefined) {
    fields.push([`duration:${task.step}:in:${bucketOf(task.seconds)}`, '1'], [`duration:${task.step}:ms`, String(Math.round(task.seconds * 1000))]);
  }
  if (task.pages) fields.push([`pages:${task.step}`, String(task.pages)]);
  if (task.cause) fields.push([`crashes:${task.step}:${task.cause}`, '1']);
  return fields;
}

/** Adds one task's outcome, duration and pages to the counters, as commands of `multi` (one round trip). */
export function countTask(multi: ChainableCommander, key: string, task: TaskCount): ChainableCommander {
  for (const [field, increment] of taskCounterFields(task)) multi.hincrby(key, field, increment);
  return multi;
}

interface DurationHistogram {
  /** Count at or under each of DURATION_BUCKETS_SECONDS, cumulative. */
  buckets: number[];
  sum: number;
  count: number;
}

export interface PlatformCounters {
  tasks: { step: string; outcome: string; count: number }[];
  durations: Record<string, DurationHistogram>;
  pages: Record<string, number>;
  documents: Record<string, number>;
  batches: Record<string, number>;
  /** Review decisions taken, by decision (approved, rejected). */
  reviews: Record<string, number>;
  /** Runs that lost their worker, by step and how the worker ended. */
  crashes: { step: string; cause: string; count: number }[];
  /** Documents the platform set right itself, by why (orphaned: waiting on no task). */
  repairs: Record<string, number>;
  /** Each tenant's documents accepted and not ended (never below 0). */
  tenantLoads: Record<string, number>;
  /** Submits refused by a tenant's quota. */
  quotaRefusals: { tenant: string; quota: string; count: number }[];
}

/** Everything counted so far, in shape. */
export async function readCounters(redis: RedisClient, key: string): Promise<PlatformCounters> {
  const fields = await redis.hgetall(key);
  const counters: PlatformCounters = {
    tasks: [],
    durations: {},
    pages: {},
    documents: {},
    batches: {},
    reviews: {},
    crashes: [],
    repairs: {},
    tenantLoads: {},
    quotaRefusals: [],
  };
  const histogram = (step: string) => (counters.durations[step] ??= { buckets: DURATION_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 });
  for (const [field, raw] of Object.entries(fields)) {
    const value = Number(raw);
    const [kind, name, what, bound] = field.split(':') as [string, string, string?, string?];
    if (kind === 'tasks' && what) counters.tasks.push({ step: name, outcome: what, count: value });
    else if (kind === 'crashes' && what) counters.crashes.push({ step: name, cause: what, count: value });
    else if (kind === 'pages') counters.pages[name] = value;
    else if (kind === 'documents') counters.documents[name] = value;
    else if (kind === 'batches') counters.batches[name] = value;
    else if (kind === 'reviews') counters.reviews[name] = value;
    else if (kind === 'repairs') counters.repairs[name] = value;
    else if (kind === 'tenant-open') counters.tenantLoads[name] = Math.max(0, value);
    else if (kind === 'quota-refused' && what) counters.quotaRefusals.push({ tenant: name, quota: what, count: value });
    else if (kind === 'duration' && what === 'in') {
      const h = histogram(name);
      const index = DURATION_BUCKETS_SECONDS.indexOf(Number(bound) as (typeof DURATION_BUCKETS_SECONDS)[number]);
      if (index >= 0) h.buckets[index]! += value;
      h.count += value;
    } else if (kind === 'duration' && what === 'ms') histogram(name).sum = value / 1000;
  }
  // Kept per bucket; a histogram counts at or under each bound.
  for (const h of Object.values(counters.durations)) for (let i = 1; i < h.buckets.length; i++) h.buckets[i]! += h.buckets[i - 1]!;
  return counters;
}
