import type { Logger } from 'winston';

export type ShutdownStep = [description: string, run: () => Promise<void>];

/**
 * On SIGTERM, SIGINT or SIGHUP — or when the launcher that started this process
 * (`docproc up`) is gone — runs the steps in order, each in its own try/catch so
 * one failure does not skip the rest, then exits. A second signal exits at once.
 */
export function installShutdown(logger: Logger, steps: ShutdownStep[]): void {
  let stopping = false;
  const stop = (reason: string, secondForces: boolean) => {
    if (stopping) {
      if (!secondForces) return;
      logger.warn('second signal: exiting now', { signal: reason });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal: reason });
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
