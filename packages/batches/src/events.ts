import type { RedisClient } from './redis-client';

/**
 * The kinds of progress event a batch's stream holds: written by the Lua scripts
 * with each change (`review`: a document begins to wait for review, or a decision on it), and `task` by a worker as each task attempt ends (its worker,
 * and when it was queued, started and ended: the batch page's timeline).
 */
export type BatchEventType = 'batch' | 'document' | 'step' | 'page' | 'task' | 'review';

/** One progress event: its stream id (the SSE event id), its kind, and its fields. */
export interface BatchEvent {
  id: string;
  type: BatchEventType;
  data: Record<string, string | number>;
}

const NUMERIC = new Set(['total', 'completed', 'failed', 'cancelled', 'page', 'done', 'count', 'attempt']);
/** Times, kept as epoch milliseconds in the stream. */
const TIMES = new Set(['at', 'queued', 'started']);

/** A stream entry as an event: numbers as numbers, times as ISO strings, empty fields left out. */
export function toEvent([id, fields]: [string, string[]]): BatchEvent {
  const data: Record<string, string | number> = {};
  let type: BatchEventType = 'batch';
  for (let i = 0; i < fields.length; i += 2) {
    const [name, value] = [fields[i]!, fields[i + 1] ?? ''];
    if (name === 'type') type = value as BatchEventType;
    else if (value === '') continue;
    else if (TIMES.has(name)) data[name] = new Date(Number(value)).toISOString();
    else data[name] = NUMERIC.has(name) ? Number(value) : value;
  }
  return { id, type, data };
}

/** Events after `afterId` ('0' for all), oldest first, at most `count`. */
export async function readEvents(redis: RedisClient, streamKey: string, afterId: string, count: number): Promise<BatchEvent[]> {
  const entries = (await redis.xrange(streamKey, afterId === '0' ? '-' : `(${afterId}`, '+', 'COUNT', count)) as [string, string[]][];
  return entries.map(toEvent);
}

/** The id of the oldest event still kept, or null when there is none. */
export async function oldestEventId(redis: RedisClient, streamKey: string): Promise<string | null> {
  const [first] = (await redis.xrange(streamKey, '-', '+', 'COUNT', 1)) as [string, string[]][];
  return first ? first[0] : null;
}
