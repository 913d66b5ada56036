import { StepTimeoutError } from '@docproc/catalog';

export interface StopWhen {
  /** Stop when this aborts, with its reason. */
  signal?: AbortSignal;
  /** Stop after this long, with a StepTimeoutError of this message. */
  timeout?: { ms: number; message: string };
  /** Stops what runs elsewhere (a thread, a process) once the wait was given up. */
  onStop?: () => Promise<void>;
}

/**
 * Waits for `work`, or gives up when the signal aborts or the time runs out:
 * then `onStop` is called (work on another thread cannot be interrupted, only
 * ended) and the promise rejects with the reason. The work's own late outcome
 * is ignored.
 */
export function untilStopped<T>(work: Promise<T>, when: StopWhen): Promise<T> {
  work.catch(() => undefined); // an abandoned rejection must not surface as unhandled
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (reason: unknown) => {
      cleanup();
      void (when.onStop?.() ?? Promise.resolve()).catch(() => undefined).then(() => reject(reason));
    };
    const onAbort = () => stop(when.signal!.reason);
    const cleanup = () => {
      clearTimeout(timer);
      when.signal?.removeEventListener('abort', onAbort);
    };
    if (when.signal?.aborted) return onAbort();
    when.signal?.addEventListener('abort', onAbort, { once: true });
    if (when.timeout) timer = setTimeout(() => stop(new StepTimeoutError(when.timeout!.message)), when.timeout.ms);
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err) => {
        cleanup();
        reject(err);
      },
    );
  });
}
