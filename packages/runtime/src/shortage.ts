/**
 * What the platform ran out of, when an error says so: Redis's memory (at maxmemory with
 * noeviction it refuses every write: "OOM command not allowed ...") or the data disk's
 * space. Conditions of the platform, not of a document: the API answers 503/507 with
 * Retry-After, and a task waits them out instead of spending an attempt.
 */
export type Shortage = 'store_full' | 'storage_full';

export function shortageOf(err: unknown): Shortage | null {
  for (let e = err as { message?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.message === 'string' && /^OOM /.test(e.message)) return 'store_full';
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return 'storage_full';
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
