/**
 * What `docproc` exits with, so scripts can tell outcomes apart (README lists them).
 * Usage errors exit 1, as commander does.
 */
export const EXIT = {
  ok: 0,
  usage: 1,
  /** A job ended with documents that failed, timed out or were cancelled (or the job failed or was cancelled). */
  documentsFailed: 2,
  /** No docproc answers at the URL. */
  unreachable: 3,
  /** The API refused the request (400, 404, 409, 413, 429): the message says why. */
  refused: 4,
  /** No API key, or a wrong one (401). */
  unauthorized: 5,
  /** The server failed (5xx). */
  serverError: 6,
  /** Every document ran, and the job waits for people to review some (options.review "required"). */
  awaitingReview: 7,
  /** Interrupted (Ctrl-C) while waiting: the job goes on. */
  interrupted: 130,
} as const;
