import type { CrashCause, FailedAttempt } from '@docproc/catalog';

/** Ends a document's work can bring about; a worker stopped from outside, or alive but slow, says nothing of it. */
const CAUSES_A_DOCUMENT_CAN_HAVE: readonly CrashCause[] = ['crashed', 'exited', 'vanished'];

/** A task that lost its worker this many times over the crash limit fails whatever the causes (no task goes round for ever). */
export const CRASH_CEILING_FACTOR = 5;

type Crash = Pick<FailedAttempt, 'cause' | 'neighbours'>;

const canBeTheDocument = (crash: Crash) => crash.cause === undefined || CAUSES_A_DOCUMENT_CAN_HAVE.includes(crash.cause);
const disjoint = (a: readonly string[], b: readonly string[]) => !a.some((id) => b.includes(id));

/**
 * Whether `crash` (one of `crashes`, a task's crashes so far) counts against the task's
 * document: only when the document can be the cause — the worker ended by itself, or its
 * heartbeat stopped — and the task was the only one its worker held, or it crashed another
 * time beside other tasks altogether (then it is what the two crashes share).
 */
export function isCharged(crash: Crash, crashes: readonly Crash[]): boolean {
  if (!canBeTheDocument(crash)) return false;
  const neighbours = crash.neighbours ?? [];
  if (neighbours.length === 0) return true;
  return crashes.some((other) => other !== crash && canBeTheDocument(other) && disjoint(neighbours, other.neighbours ?? []));
}

/** How many of a task's crashes count against its document. */
export function chargedCrashes(crashes: readonly Crash[]): number {
  return crashes.filter((crash) => isCharged(crash, crashes)).length;
}
