import type { Logger } from 'winston';

export type ShutdownStep = [description: string, run: () => Promise<void>];

/**
 * On SIGTERM or SIGINT runs the steps in order, each in its own try/catch so
 * one failure does not skip the rest, then exits. A second signal exits at once.
 */
export function installShutdown(logger: Logger, steps: ShutdownStep[]): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
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
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
