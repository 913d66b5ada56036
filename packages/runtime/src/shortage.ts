/**
 * What the platform ran out of, when an error says so: Redis's memory (at maxmemory with
 * noeviction it refuses every write: "OOM command not allowed ...") or the data disk's
 * space. Conditions of the platform, not of a document: the API answers 503/507 with
 * Retry-After, and a task waits them out instead of spending an attempt.
 */
export type Shortage = 'store_full' | 'storage_full';

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  /** A MULTI refused as a whole (EXECABORT) carries the errors of its commands here (ioredis). */
  previousErrors?: unknown[];
}

export function shortageOf(err: unknown, depth = 0): Shortage | null {
  const e = err as ErrorLike | undefined;
  if (!e || depth > 5) return null;
  if (typeof e.message === 'string' && /^OOM /.test(e.message)) return 'store_full';
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return 'storage_full';
  for (const inner of [e.cause, ...(e.previousErrors ?? [])]) {
    const shortage = shortageOf(inner, depth + 1);
    if (shortage) return shortage;
  }
  return null;
}

/** A run stopped by a shortage: its task is put back with its attempt unspent (see step-worker.ts). */
export class ShortageError extends Error {
  constructor(
    readonly shortage: Shortage,
    cause: unknown,
  ) {
    super(`${shortage === 'store_full' ? 'Redis is out of memory' : 'the data disk is full'}: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'ShortageError';
  }
}
