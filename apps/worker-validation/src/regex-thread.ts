import { Worker } from 'node:worker_threads';

/** What a match gives: whether the text matched, and the named groups of the first match. */
export interface RegexOutcome {
  matched: boolean;
  groups: Record<string, string>;
}

export class RegexTimeoutError extends Error {}

// The thread's whole program: match what it is sent, one at a time, saying when a match
// begins (the time limit counts from there, not from a fresh thread's start).
const THREAD = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ pattern, flags, text }) => {
  const regex = new RegExp(pattern, flags);
  parentPort.postMessage({ started: true });
  const match = regex.exec(text);
  const groups = {};
  for (const [name, value] of Object.entries(match?.groups ?? {})) if (value !== undefined) groups[name] = value;
  parentPort.postMessage({ matched: match !== null, groups });
});`;

/**
 * Users' regex rules run on a thread of their own, one match at a time, with a time
 * limit: JavaScript cannot stop a match that backtracks without end ("(a+)+$" on a long
 * run of a's), so past the limit the thread is terminated and a new one takes the next
 * match. The worker's own event loop (lock renewals, heartbeats) never waits on a match.
 * The limit counts the match alone: from the thread's word that it begins, so a thread
 * starting slowly on a busy machine is not charged to the rule it then runs.
 */
export class RegexThread {
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly timeoutMs: number) {}

  exec(pattern: string, flags: string | undefined, text: string): Promise<RegexOutcome> {
    const run = this.queue.then(() => this.run(pattern, flags, text));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private run(pattern: string, flags: string | undefined, text: string): Promise<RegexOutcome> {
    const worker = (this.worker ??= new Worker(THREAD, { eval: true }));
    worker.unref(); // an idle thread keeps no process alive
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onMessage = (message: RegexOutcome | { started: true }) => {
        if ('started' in message) {
          timer = setTimeout(() => {
            cleanup();
            this.worker = undefined;
            void worker.terminate();
            reject(new RegexTimeoutError(`the pattern took longer than ${this.timeoutMs} ms on this text`));
          }, this.timeoutMs);
          return;
        }
        cleanup();
        resolve(message);
      };
      const onError = (err: Error) => {
        cleanup();
        this.worker = undefined;
        reject(err);
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError);
      };
      worker.on('message', onMessage).on('error', onError);
      worker.postMessage({ pattern, flags, text });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
