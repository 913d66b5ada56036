import { type StepName } from '@docproc/catalog';
import { loadConfigOrExit, type Config } from '@docproc/config';
import { openBlobStore } from '@docproc/storage';
import type { Logger } from 'winston';
import type { WorkerCapabilities } from './heartbeat';
import { createLogger } from './logger';
import { createRedis, redisTarget } from './redis';
import { announceReady, installShutdown } from './shutdown';
import { startHealthServer } from './health-server';
import type { PageWork, StepProcessor } from './step-context';
import { startStepWorker, stepWorkerSettings } from './step-worker';

export interface WorkerApp<S extends StepName> {
  /** The app's name in logs, e.g. "worker-ocr". */
  service: string;
  step: S;
  /** Builds the processor (and whatever it holds, like an OCR engine) from the config. */
  setup(
    config: Config,
    logger: Logger,
  ): Promise<{ processor: StepProcessor<S>; pages?: PageWork<S>; close?: () => Promise<void>; capabilities?: WorkerCapabilities }>;
}

/**
 * The whole `main` of a worker app: parse config, connect, start the BullMQ
 * worker with a heartbeat, and stop cleanly on SIGTERM/SIGINT.
 */
export async function runWorker<S extends StepName>(app: WorkerApp<S>): Promise<void> {
  const { service } = app;
  const config = loadConfigOrExit(service);
  const logger = createLogger(service, config.logLevel, config.logFormat);
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { error: String(reason) }));

  let step: Awaited<ReturnType<WorkerApp<S>['setup']>>;
  try {
    step = await app.setup(config, logger);
  } catch (err) {
    logger.error('cannot start', { error: (err as Error).message });
    process.exit(70); // EX_SOFTWARE: `docproc up` stops the launch with this line as the reason
  }
  const { processor, pages, close, capabilities } = step;
  const blobs = openBlobStore(config);
  try {
    await blobs.check();
  } catch (err) {
    logger.error('cannot use the blob store', { error: (err as Error).message });
    process.exit(78); // EX_CONFIG
  }
  const connection = createRedis(redisTarget(config), 'worker', logger);
  const concurrency = config.concurrency[app.step];
  const worker = startStepWorker({
    step: app.step,
    processor,
    pages,
    connection,
    prefix: config.keyPrefix,
    blobs,
    logger,
    concurrency,
    ...stepWorkerSettings(config, app.step),
    capabilities,
  });
  logger.info('worker started', { workerId: worker.id, queue: app.step, concurrency, pid: process.pid });
  const health = config.healthPort > 0 ? startHealthServer(config.healthPort, config.healthHost, worker.health(), logger) : undefined;

  installShutdown(
    logger,
    [
      ['stop taking jobs and finish running ones', () => worker.close()],
      ['release the step resources', async () => close?.()],
      ['close Redis', async () => void (await connection.quit())],
      ['close the blob store', async () => blobs.close()],
      ['stop the health endpoint', async () => health?.close()],
    ],
    {
      // Running tasks may finish (they stop at their time limit anyway), then the drain time.
      limitMs: config.stepTimeoutMs[app.step] + config.drainMs,
      drainMs: config.drainMs,
      redis: connection,
    },
  );
  announceReady();
}
