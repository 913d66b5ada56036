import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, Job, Worker } from 'bullmq';
import type { RedisClient } from '@docproc/batches';
import type { Logger } from 'winston';
import { queueName, stepPayloadSchema, type TaskPolicy, type StepName } from '@docproc/catalog';
import { BatchStore, StepQueues, TaskLedger, batchEndFields, taskPolicy } from '@docproc/batches';
import type { Config } from '@docproc/config';
import type { BlobStore } from '@docproc/storage';
import {
  Heartbeat,
  announceCapabilities,
  bullWorkerName,
  fromBullWorkerName,
  goneAfterMs,
  liveWorkers,
  workerName as workerNameOf,
  type WorkerCapabilities,
} from './heartbeat';
import { watchForGoneWorkers } from './gone-workers';
import type { HealthChecks } from './health-server';
import type { PageWork, StepProcessor } from './step-context';
import { LOCK_LOST, runTask, taskRun, type TaskReturn } from './run-task';
import { duplicateOf, keepAnswering } from './redis';
import { shortageOf } from './shortage';

/** BullMQ's words for a task whose lock this run no longer holds. */
const LOCK_LOST_ERROR = /^(Missing lock|Lock mismatch) for job /;

export interface StepWorkerOptions<S extends StepName> {
  step: S;
  processor: StepProcessor<S>;
  /** For a paged step: how to run one page and combine them. */
  pages?: PageWork<S>;
  /** A connection made with createRedis(url, 'worker'); BullMQ duplicates it for blocking calls. */
  connection: RedisClient;
  prefix: string;
  blobs: BlobStore;
  logger: Logger;
  concurrency: number;
  policy: TaskPolicy;
  /** The step's time limit per task (ms). */
  timeoutMs: number;
  /**
   * How long a task's lock lasts (renewed at half): long, so a starved worker keeps its
   * tasks; a gone worker's tasks are released as soon as it is seen gone (gone-workers.ts).
   */
  lockMs: number;
  /** A task's start is recorded once it ran this long, or with its end when it ends sooner (0: at once). */
  startRecordMs: number;
  /** How often this worker runs BullMQ's stalled check (which queues released tasks again). */
  stalledIntervalMs: number;
  /** A task whose document crashed its worker this many times fails with worker_crashed. */
  maxCrashes: number;
  maxEvents: number;
  heartbeatMs: number;
  /** A task that met a full platform (Redis or the disk) runs again after this long, its attempt unspent. */
  shortageRetryMs: number;
  /** Announced with the heartbeat and kept for submit-time checks. */
  capabilities?: WorkerCapabilities;
}

/** The lifecycle settings of a step's worker, from the config (the only home of their defaults). */
export function stepWorkerSettings(config: Config, step: StepName) {
  return {
    policy: taskPolicy(config),
    timeoutMs: config.stepTimeoutMs[step],
    lockMs: config.lockMs,
    startRecordMs: config.startRecordMs,
    stalledIntervalMs: config.stalledIntervalMs,
    maxCrashes: config.maxCrashes,
    maxEvents: config.maxEventsPerJob,
    heartbeatMs: config.heartbeatMs,
    shortageRetryMs: config.shortageRetryMs,
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

/** BullMQ fails a task itself after this many stalls: never, the ledger decides (TaskLedger.crashed). */
const NO_STALL_LIMIT = 1_000_000;

/**
 * One step's BullMQ worker: runs each task with runTask, stops a run at once when its
 * batch is cancelled (announced on a channel: BullMQ can only cancel a task in the process
 * that holds it) or when it lost its task's lock, and keeps watch for gone workers, whose
 * tasks it releases (gone-workers.ts). A task BullMQ finds stalled without a release (its
 * lock ran out) is recorded through the ledger too: `vanished` when its worker stopped
 * beating, else `lock_expired` (alive but too slow: not held against the document).
 */
export function startStepWorker<S extends StepName>(options: StepWorkerOptions<S>): StepWorker {
  const { step, connection, prefix, blobs, logger } = options;
  // Records go over a connection of their own with auto-pipelining: the record calls of
  // tasks ending in the same tick share one write, and none waits behind BullMQ's traffic.
  const recordsConnection = keepAnswering(duplicateOf(connection, true));
  recordsConnection.on('error', (err: Error) => logger.warn('redis error (records)', { error: err.message }));
  const store = new BatchStore(recordsConnection, prefix, options.maxEvents, (batch) => logger.info('batch ended', batchEndFields(batch)));
  const ledger = new TaskLedger(store, new StepQueues(connection, prefix, options.policy));
  const id = `${step}-${randomUUID().slice(0, 8)}`;
  const workerName = workerNameOf({ id, pid: process.pid, host: hostname() });
  const counts = { processed: 0, failed: 0, active: 0 };
  let draining = false;
  /** The batch of each task this process is running, to stop them when their batch is cancelled. */
  const running = new Map<string, string>();
  const deps = {
    step,
    processor: options.processor,
    pages: options.pages,
    ledger,
    blobs,
    logger,
    workerName,
    timeoutMs: options.timeoutMs,
    startRecordMs: options.startRecordMs,
  };

  const worker = new Worker(
    queueName(step),
    async (job: Job, token?: string, signal?: AbortSignal): Promise<TaskReturn> => {
      counts.active++;
      if (job.id) running.set(job.id, String((job.data as { batchId?: unknown }).batchId));
      try {
        const value = await runTask(job, deps, signal);
        counts.processed++;
        return value;
      } catch (err) {
        if (shortageOf(err)) {
          await putBack(job, token);
          throw new DelayedError();
        }
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
      // Kept on each task as processedBy: which process holds it; Bull Board lists workers by it.
      name: bullWorkerName(workerName),
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: NO_STALL_LIMIT,
      // Started once the first heartbeat is in Redis (below): its tasks can always be found.
      autorun: false,
    },
  );
  worker.on('error', (err) => {
    // A run that ends after its task was handed on (its worker seen gone, a cancel, the lock
    // run out) meets BullMQ's lock check: expected in those cases, and the result is dropped.
    if (LOCK_LOST_ERROR.test(err.message))
      logger.warn('a task ended after its lock was lost: another run has it, this result is dropped', { error: err.message });
    else logger.error('worker error', { error: err.message });
  });

  /**
   * A task that met a full platform goes back to the queue, delayed by shortageRetryMs, with
   * its attempt unspent (BullMQ's moveToDelayed). While Redis is out of memory even that
   * write is refused: it is tried again each second while the lock lasts (then BullMQ's
   * stalled check queues the task again once Redis takes writes).
   */
  const putBack = async (job: Job, token: string | undefined) => {
    const until = Date.now() + options.lockMs;
    for (;;) {
      try {
        await job.moveToDelayed(Date.now() + options.shortageRetryMs, token);
        return;
      } catch (err) {
        if (shortageOf(err) !== 'store_full' || draining || Date.now() > until) {
          logger.warn('cannot put a task back: it runs again when its lock runs out', { taskId: job.id, error: (err as Error).message });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  // A run whose lock could not be renewed was (or will be) handed to another: stop it now.
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const jobId of jobIds) worker.cancelJob(jobId, LOCK_LOST);
  });

  // Cancels are announced on a channel; each worker stops the tasks of that batch it holds.
  const subscriber = keepAnswering(duplicateOf(connection));
  subscriber.on('error', (err: Error) => logger.warn('redis error (cancel channel)', { error: err.message }));
  subscriber.on('message', (_channel: string, batchId: string) => {
    for (const [jobId, batch] of running) if (batch === batchId) worker.cancelJob(jobId, 'cancelled');
  });
  void subscriber.subscribe(store.keys.cancelChannel).catch((err: Error) => logger.error('cannot listen for cancels', { error: err.message }));

  /** A task BullMQ found stalled: recorded here unless a release recorded it already. */
  worker.on('stalled', (jobId) => {
    void (async () => {
      if (await ledger.wasReleased(jobId)) return;
      const job = await Job.fromId(worker, jobId);
      const payload = stepPayloadSchema.safeParse(job?.data);
      if (!job || !payload.success) return;
      const holder = job.processedBy ? fromBullWorkerName(job.processedBy) : 'unknown';
      const alive = (await liveWorkers(connection, prefix, goneAfterMs(options.heartbeatMs))).some((w) => holder.startsWith(`${w.id} `));
      const run = taskRun(job, payload.data, holder);
      const end = alive
        ? { cause: 'lock_expired' as const, detail: `its lock of ${options.lockMs} ms ran out while the worker was alive`, neighbours: [] }
        : { cause: 'vanished' as const, detail: 'its lock ran out and its heartbeat stopped', neighbours: [] };
      const outcome = await ledger.crashed(run, end, options.maxCrashes);
      logger.warn(outcome === 'failed' ? 'document failed: it crashed its worker too often' : 'a task lost its worker: it runs again', {
        taskId: jobId,
        documentId: payload.data.documentId,
        worker: holder,
        cause: end.cause,
      });
    })().catch((err: Error) => logger.warn('cannot record a stalled task', { taskId: jobId, error: err.message }));
  });

  const gone = watchForGoneWorkers({ ledger, redis: connection, prefix, heartbeatMs: options.heartbeatMs, maxCrashes: options.maxCrashes, logger });

  const { capabilities } = options;
  if (capabilities) void announceCapabilities(connection, prefix, step, capabilities).catch(() => undefined);
  const heartbeat = new Heartbeat(connection, prefix, options.heartbeatMs, () => ({
    id,
    step,
    concurrency: options.concurrency,
    ...counts,
    current: [...running.keys()],
    bullWorkerId: worker.id,
    ...(capabilities ? { capabilities } : {}),
  }));
  void heartbeat
    .start()
    .catch((err: Error) => logger.warn('first heartbeat not written', { error: err.message }))
    .then(() => worker.run())
    .catch((err: Error) => logger.error('worker stopped running', { error: err.message }));

  return {
    id,
    worker,
    health: () => ({
      live: () => heartbeat.problems().live,
      ready: () => (draining ? 'draining: finishing its running tasks before it stops' : heartbeat.problems().ready),
    }),
    async close() {
      draining = true;
      gone.stop();
      await worker.close();
      await subscriber.quit().catch(() => undefined);
      await ledger.queues.close();
      await heartbeat.stop();
      await recordsConnection.quit();
    },
  };
}
