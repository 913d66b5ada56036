import type { Logger } from 'winston';
import type { RedisClient } from '@docproc/batches';

/** The exit of a process stopped at its drain limit (EX_TEMPFAIL): told to stop, it is not a crash of its tasks' documents. */
export const DRAIN_LIMIT_EXIT_CODE = 75;

export interface DrainLimits {
  /** The longest a stop may take (a worker: its step's time limit and the drain time). */
  limitMs: number;
  /** The config's drainMs: how long a stop waits for an unreachable Redis before it gives up. */
  drainMs: number;
  redis?: Pick<RedisClient, 'status'>;
}

export type ShutdownStep = [description: string, run: () => Promise<void>];

/**
 * On SIGTERM, SIGINT or SIGHUP — or when the launcher that started this process
 * (`docproc up`) is gone — runs the steps in order, each in its own try/catch so
 * one failure does not skip the rest, then exits — within its limits, whatever the steps
 * wait for. A second signal exits at once.
 */
export function installShutdown(logger: Logger, steps: ShutdownStep[], limits: DrainLimits): void {
  let stopping = false;
  const stop = (reason: string, secondForces: boolean) => {
    if (stopping) {
      if (!secondForces) return;
      logger.warn('second signal: exiting now', { signal: reason });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal: reason });
    // A step that waits on Redis (closing BullMQ, a last record) would wait forever while it
    // is unreachable: past the limit, or once Redis was away for the drain time, the process
    // goes anyway. Its unfinished tasks are released when its exit or its silent heartbeat is
    // seen (gone-workers.ts).
    const startedAt = Date.now();
    let reachableAt = Date.now();
    const watch = setInterval(() => {
      if (limits.redis?.status === 'ready') reachableAt = Date.now();
      const unreachable = Date.now() - reachableAt >= limits.drainMs;
      if (Date.now() - startedAt < limits.limitMs && !unreachable) return;
      logger.error(unreachable ? 'Redis unreachable while draining: exiting now' : 'drain limit reached: exiting with work unfinished', {
        limitMs: limits.limitMs,
      });
      process.exit(DRAIN_LIMIT_EXIT_CODE);
    }, 250);
    watch.unref();
    void (async () => {
      let failed = false;
      for (const [description, run] of steps) {
        try {
          await run();
        } catch (err) {
          failed = true;
          logger.error('shutdown step failed', { step: description, error: (err as Error).message });
        }
      }
      logger.info('stopped');
      process.exit(failed ? 1 : 0);
    })();
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal, true));
  if (process.channel) {
    // Started by `docproc up` with an IPC channel: the channel closes when the launcher
    // dies, even by SIGKILL, so this process drains and stops instead of living on orphaned.
    // Its output pipes are gone then too: writing must not throw.
    process.channel.unref();
    process.on('disconnect', () => {
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      stop('launcher exited', false);
    });
  }
}

/** Tells the launcher that started this process, if any, that it is ready for work. */
export function announceReady(): void {
  process.send?.({ type: 'ready' });
}
