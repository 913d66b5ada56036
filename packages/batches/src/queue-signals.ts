import type { Queue } from 'bullmq';
import type { RedisClient } from './redis-client';

/** Where a queue stands: its tasks by BullMQ state, and how long the oldest has waited. */
export interface QueueSignals {
  queue: string;
  /** In the wait list (priority 0). */
  waiting: number;
  /** In BullMQ's prioritized set: waiting too, which a count of `wait` alone misses. */
  prioritized: number;
  active: number;
  /** Retries in backoff (and due ones not yet moved back). */
  delayed: number;
  /** Of those, the ones whose time has come: waiting too. */
  due: number;
  failed: number;
  /**
   * Seconds since the oldest task that could run now was queued (wait, prioritized, or
   * delayed and due: from when it became due); 0 when none waits. A retried task counts
   * from when it was first queued. The signal a latency-based autoscaler needs.
   */
  oldestWaitingSeconds: number;
}

/**
 * The oldest timestamp among waiting tasks, reading O(bands) entries, never the whole queue:
 * the wait list's right end (BullMQ pushes left, takes right); the first task of each priority
 * band of the prioritized set (score = priority * 2^32 + insertion counter, so a band's first is
 * its oldest); the earliest due delayed task (score = due time (ms) * 4096 + counter).
 * KEYS: wait, prioritized, delayed. ARGV: job key prefix, now (ms). Returns { ms or false, due delayed tasks }.
 */
const OLDEST_WAITING = `
local oldest = nil
local function consider(ts) if ts and (not oldest or ts < oldest) then oldest = ts end end
local function queuedAt(id) return tonumber(redis.call('HGET', ARGV[1] .. id, 'timestamp')) end
local last = redis.call('LINDEX', KEYS[1], -1)
if last then consider(queuedAt(last)) end
local band = 4294967296
local from = 0
for _ = 1, 100 do
  local first = redis.call('ZRANGEBYSCORE', KEYS[2], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then break end
  consider(queuedAt(first[1]))
  from = (math.floor(tonumber(first[2]) / band) + 1) * band
end
local dueBelow = (tonumber(ARGV[2]) + 1) * 4096 - 1
local due = redis.call('ZRANGEBYSCORE', KEYS[3], 0, dueBelow, 'WITHSCORES', 'LIMIT', 0, 1)
if #due > 0 then consider(math.floor(tonumber(due[2]) / 4096)) end
return { oldest or false, redis.call('ZCOUNT', KEYS[3], 0, dueBelow) }
`;

/** The queue's signals; `redis` is a connection to the queue's Redis (for the one script). */
export async function queueSignals(queue: Queue, redis: RedisClient, now = Date.now()): Promise<QueueSignals> {
  const [counts, [oldest, due]] = await Promise.all([
    queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'),
    redis.eval(OLDEST_WAITING, 3, queue.keys.wait!, queue.keys.prioritized!, queue.keys.delayed!, `${queue.qualifiedName}:`, String(now)) as Promise<
      [number | null, number]
    >,
  ]);
  return {
    queue: queue.name,
    waiting: counts.wait ?? 0,
    prioritized: counts.prioritized ?? 0,
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    due: Number(due),
    failed: counts.failed ?? 0,
    oldestWaitingSeconds: oldest ? Math.max(0, (now - Number(oldest)) / 1000) : 0,
  };
}

/** A queue's backlog: every task a free worker could take now (waiting, prioritized, due). */
export const backlogOf = (q: QueueSignals) => q.waiting + q.prioritized + q.due;

/**
 * Tasks accepted and not yet taken: the backlog and the retries still in backoff. What
 * admission limits (DOCPROC_MAX_BACKLOG), and with the active ones what a pool has to do.
 */
export const queuedOf = (q: QueueSignals) => q.waiting + q.prioritized + q.delayed;
