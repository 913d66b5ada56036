import { BATCH_STATUSES, TASK_STATUSES, type BatchStatus, type TaskStatus } from '@docproc/catalog';
import type { BatchPosition } from '@docproc/batches';
import { badRequest } from './http-error';
import { EXTRAS, type Extra } from './views';

/** Reading query strings: each parser names the parameter it refuses. */
const text = (query: Record<string, unknown>, name: string): string | undefined => {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`"${name}" must be given once`);
  return value;
};

export function limitParam(query: Record<string, unknown>, fallback: number, max: number): number {
  const value = text(query, 'limit');
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`"limit" must be an integer from 1 to ${max}`);
  return n;
}

export function includeParam(query: Record<string, unknown>): Set<Extra> {
  const value = text(query, 'include');
  const names = (value ?? '').split(',').filter(Boolean);
  for (const name of names) if (!EXTRAS.includes(name as Extra)) throw badRequest(`"include" takes ${EXTRAS.join(', ')}`);
  return new Set(names as Extra[]);
}

export function batchStatusParam(query: Record<string, unknown>): BatchStatus | undefined {
  const value = text(query, 'status');
  if (value !== undefined && !BATCH_STATUSES.includes(value as BatchStatus)) throw badRequest(`"status" must be one of ${BATCH_STATUSES.join(', ')}`);
  return value as BatchStatus | undefined;
}

export function documentStatusParam(query: Record<string, unknown>): TaskStatus | undefined {
  const value = text(query, 'status');
  if (value !== undefined && !TASK_STATUSES.includes(value as TaskStatus)) throw badRequest(`"status" must be one of ${TASK_STATUSES.join(', ')}`);
  return value as TaskStatus | undefined;
}

/** A time as ISO 8601 (or ms since the epoch), in ms. */
export function timeParam(query: Record<string, unknown>, name: string): number | undefined {
  const value = text(query, name);
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`"${name}" must be an ISO 8601 time`);
  return ms;
}

/** An opaque cursor from a page before: base64url of the position it stopped at. */
export function cursorParam(query: Record<string, unknown>): string | undefined {
  const value = text(query, 'cursor');
  if (value === undefined) return undefined;
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  if (decoded === '' || Buffer.from(decoded, 'utf8').toString('base64url') !== value) throw badRequest('"cursor" is not one this API gave');
  return decoded;
}

export const toCursor = (position: string) => Buffer.from(position, 'utf8').toString('base64url');

/** The listing's `cursor` as the batch it stopped after. */
export function afterParam(query: Record<string, unknown>): BatchPosition | undefined {
  const cursor = cursorParam(query);
  if (cursor === undefined) return undefined;
  const [createdAt, id] = cursor.split(' ');
  if (!id || !/^\d+$/.test(createdAt ?? '')) throw badRequest('"cursor" is not one this API gave');
  return { createdAt: Number(createdAt), id };
}

/** The cursor of the page after the one that ended at `last`. */
export const nextCursor = (last: BatchPosition | null) => (last ? toCursor(`${last.createdAt} ${last.id}`) : null);

export function formatParam(query: Record<string, unknown>): 'json' | 'ndjson' {
  const value = text(query, 'format') ?? 'json';
  if (value !== 'json' && value !== 'ndjson') throw badRequest('"format" must be json or ndjson');
  return value;
}
