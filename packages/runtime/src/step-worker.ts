import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { queueName, stepPayloadSchema, type StepJobPolicy, type StepName } from '@docproc/catalog';
import { BatchStore, StepQueues, batchEndFields, deadLetter, jobPolicy } from '@docproc/batches';
import type { Config } from '@docproc/config';
import type { BlobStore } from '@docproc/storage';
import { Heartbeat, announceCapabilities, type WorkerCapabilities } from './heartbeat';
import type { HealthChecks } from './health-server';
import type { PageWork, StepProcessor } from './step-context';
import { queuedAt, runStepJob, type StepJobReturn } from './step-job';

export interface StepWorkerOptions<S extends StepName> {
  step: S;
  processor: StepProcessor<S>;
  /** For a paged step: how to run one page and combine them. */
  pages?: PageWork<S>;
  /** A connection made with createRedis(url, 'worker'); BullMQ duplicates it for blocking calls. */
  connection: Redis;
  prefix: string;
  blobs: BlobStore;
  logger: Logger;
  concurrency: number;
  policy: StepJobPolicy;
  /** The step's time limit per task (ms). */
  timeoutMs: number;
  /** How long a task's lock lasts (renewed at half); a dead worker's tasks run again after it ran out. */
  lockMs: number;
  /** How often this worker looks for tasks whose lock ran out. */
  stalledIntervalMs: number;
  /** A task that stopped its worker this many times fails with worker_crashed. */
  maxCrashes: number;
  maxEvents: number;
  heartbeatMs: number;
  /** Announced with the heartbeat and kept for submit-time checks. */
  capabilities?: WorkerCapabilities;
}

/** The lifecycle settings of a step's worker, from the config (the only home of their defaults). */
export function stepWorkerSettings(config: Config, step: StepName) {
  return {
    policy: jobPolicy(config),
    timeoutMs: config.stepTimeoutMs[step],
    lockMs: config.lockMs,
    stalledIntervalMs: config.stalledIntervalMs,
    maxCrashes: config.maxCrashes,
    maxEvents: config.maxEventsPerJob,
    heartbeatMs: config.heartbeatMs,
  } satisfies Partial<StepWorkerOptions<StepName>>;
}

export interface StepWorker {
  readonly id: string;
  readonly worker: Worker;
  /** Stops taking tasks, waits for the running ones, and says goodbye. */
  close(): Promise<void>;
  /** For /healthz and /readyz: live while the heartbeat fires, ready while Redis takes it and no drain began. */
  health(): HealthChecks;
}

/**
 * One step's BullMQ worker: runs each task with runStepJob, aborts the
 * running tasks of a batch when a cancel is announced (pub/sub: BullMQ can
 * only cancel a task in the process that holds it), and keeps track of tasks
 * whose worker died: each such stop is kept in the document's error history,
 * and a task that stopped its worker `maxCrashes` times fails `worker_crashed`
 * (a poison pill) instead of going round for ever.
 */
export function startStepWorker<S extends StepName>(options: StepWorkerOptions<S>): StepWorker {
  const { step, connection, prefix, blobs, logger } = options;
  // Records go over a connection of their own with auto-pipelining: the record calls of
  // tasks ending in the same tick share one write, and none waits behind BullMQ's traffic.
  const recordsConnection = connection.duplicate({ enableAutoPipelining: true });
  recordsConnection.on('error', (err: Error) => logger.warn('redis error (records)', { error: err.message }));
  const store = new BatchStore(recordsConnection, prefix, options.maxEvents, (batch) => logger.info('batch ended', batchEndFields(batch)));
  const queues = new StepQueues(connection, prefix, options.policy);
  const id = `${step}-${randomUUID().slice(0, 8)}`;
  const workerName = `${id} pid ${process.pid} on ${hostname()}`;
  const counts = { processed: 0, failed: 0, active: 0 };
  /** The batch of each task this process is running, to abort them when their batch is cancelled. */
  const running = new Map<string, string>();
  const deps = { step, processor: options.processor, pages: options.pages, store, queues, blobs, logger, workerName, timeoutMs: options.timeoutMs };

  const worker = new Worker(
    queueName(step),
    async (job: Job, _token?: string, signal?: AbortSignal): Promise<StepJobReturn> => {
      counts.active++;
      if (job.id) running.set(job.id, String((job.data as { batchId?: unknown }).batchId));
      try {
        const value = await runStepJob(job, deps, signal);
        counts.processed++;
        return value;
      } catch (err) {
        counts.failed++;
        throw err;
      } finally {
        counts.active--;
        if (job.id) running.delete(job.id);
      }
    },
    {
      connection,
      prefix,
      // Kept on each task as processedBy: which process holds it (Bull Board shows it too).
      name: workerName,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.stalledIntervalMs,
      // BullMQ fails a task on the stall after maxStalledCount: the crash numbered maxCrashes.
      maxStalledCount: options.maxCrashes - 1,
    },
  );
  worker.on('error', (err) => logger.error('worker error', { error: err.message }));

  // Cancels are announced on a channel; each worker aborts the tasks of that batch it holds.
  const subscriber = connection.duplicate();
  subscriber.on('error', (err: Error) => logger.warn('redis error (cancel channel)', { error: err.message }));
  subscriber.on('message', (_channel: string, batchId: string) => {
    for (const [jobId, batch] of running) if (batch === batchId) worker.cancelJob(jobId, 'cancelled');
  });
  void subscriber.subscribe(store.keys.cancelChannel).catch((err: Error) => logger.error('cannot listen for cancels', { error: err.message }));

  /** A task whose worker stopped (crash, kill, blocked event loop): noted in its document's history. */
  worker.on('stalled', (jobId) => {
    void (async () => {
      const job = await Job.fromId(worker, jobId);
      const payload = stepPayloadSchema.safeParse(job?.data);
      if (!job || !payload.success) return;
      const now = new Date().toISOString();
      await store.addFailedAttempt(payload.data.documentId, {
        step,
        page: payload.data.page?.index ?? null,
        attempt: job.attemptsMade + 1,
        code: 'worker_crashed',
        message: 'the worker running this task stopped before it ended (crash, kill or out of memory); it runs again',
        worker: job.processedBy ?? 'unknown (it stopped)',
        startedAt: new Date(job.processedOn ?? Date.now()).toISOString(),
        failedAt: now,
      });
      // The attempt ended unseen (its lock ran out): drawn up to now on the timeline.
      await store.taskEnded({
        batchId: payload.data.batchId,
        documentId: payload.data.documentId,
        step,
        page: payload.data.page?.index,
        attempt: job.attemptsMade + 1,
        worker: job.processedBy ?? 'unknown (it stopped)',
        queuedAt: queuedAt(job),
        startedAt: job.processedOn ?? Date.now(),
        endedAt: Date.now(),
        outcome: 'crashed',
      });
      logger.warn('a task lost its worker: it runs again', { taskId: jobId, documentId: payload.data.documentId });
    })().catch((err: Error) => logger.warn('cannot note a stalled task', { taskId: jobId, error: err.message }));
  });

  // A task failed by BullMQ's stall check (it stopped its worker too often) never reached runStepJob's catch.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled/i.test(err.message)) return;
    const parsed = stepPayloadSchema.safeParse(job.data);
    if (!parsed.success) return;
    const payload = parsed.data;
    const page = payload.page?.index ?? null;
    const where = page === null ? '' : ` on page ${page + 1}`;
    const error = {
      code: 'worker_crashed' as const,
      message: `the ${step} step stopped its worker ${options.maxCrashes} times${where}: the document seems to crash the engine`,
    };
    void (async () => {
      await store.recordStep(payload.batchId, payload.documentId, step, {
        status: 'failed',
        attempts: job.attemptsMade + 1,
        documentStatus: 'failed',
        error,
      });
      await deadLetter(store, queues, payload, job.id);
      logger.warn('document failed', { batchId: payload.batchId, documentId: payload.documentId, code: error.code, error: error.message });
    })().catch((e: Error) => logger.error('cannot record a crashed task', { taskId: job.id, error: e.message }));
  });

  const { capabilities } = options;
  if (capabilities) void announceCapabilities(connection, prefix, step, capabilities).catch(() => undefined);
  const heartbeat = new Heartbeat(connection, prefix, options.heartbeatMs, () => ({
    id,
    step,
    concurrency: options.concurrency,
    ...counts,
    current: [...running.keys()],
    ...(capabilities ? { capabilities } : {}),
  }));
  heartbeat.start();

  let draining = false;
  return {
    id,
    worker,
    health: () => ({
      live: () => heartbeat.problems().live,
      ready: () => (draining ? 'draining: finishing its running tasks before it stops' : heartbeat.problems().ready),
    }),
    async close() {
      draining = true;
      await worker.close();
      await subscriber.quit().catch(() => undefined);
      await queues.close();
      await heartbeat.stop();
      await recordsConnection.quit();
    },
  };
}
