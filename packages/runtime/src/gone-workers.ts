import { hostname } from 'node:os';
import { Job } from 'bullmq';
import type { RedisClient } from '@docproc/batches';
import type { Logger } from 'winston';
import { stepPayloadSchema, isStepName } from '@docproc/catalog';
import { BatchStore, StepQueues, TaskLedger, taskPolicy, type WorkerEnd } from '@docproc/batches';
import type { Config } from '@docproc/config';
import { createRedis, redisTarget } from './redis';
import { goneAfterMs, heartbeats, workerName, workersKey, type WorkerInfo } from './heartbeat';
import { taskRun } from './run-task';
import { DRAIN_LIMIT_EXIT_CODE } from './shutdown';

/** Signals a process gets from its own faults: its work (a document) can be the cause. */
const FAULT_SIGNALS = ['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP', 'SIGSYS'];

/**
 * How a worker process ended, from its exit as its parent saw it. V8 running out of heap
 * aborts (SIGABRT), a native fault is SIGSEGV/SIGBUS: `crashed`. A throw nobody caught
 * exits non-zero: `exited`. SIGKILL, SIGTERM and the like come from outside (a person, a
 * supervisor, a chaos test), as does a stop cut at the drain limit: `killed`, which says
 * nothing of the document. (The kernel's
 * OOM killer also sends SIGKILL: such a crash counts only toward the ceiling.)
 */
export function endOfExit(code: number | null, signal: NodeJS.Signals | null): WorkerEnd {
  if (signal) return { cause: FAULT_SIGNALS.includes(signal) ? 'crashed' : 'killed', detail: `exit by ${signal}` };
  if (code === 134 || code === 139) return { cause: 'crashed', detail: `exit code ${code}` };
  if (code === DRAIN_LIMIT_EXIT_CODE) return { cause: 'killed', detail: 'told to stop, it reached its drain limit' };
  return { cause: 'exited', detail: `exit code ${code}` };
}

/**
 * Hands back at once the tasks a gone worker held: their locks are taken away (so BullMQ's
 * stalled check queues them again within its interval, not when a lock runs out) and each
 * crash is recorded once in its document's history, with the other tasks the worker held
 * (see TaskLedger.crashed). The worker's heartbeat entry goes too. Returns the tasks released.
 */
export async function releaseGoneWorker(
  deps: { ledger: TaskLedger; redis: RedisClient; prefix: string; maxCrashes: number; logger: Logger },
  info: WorkerInfo,
  end: WorkerEnd,
): Promise<string[]> {
  const { ledger, logger } = deps;
  if (!isStepName(info.step)) return [];
  const released = info.bullWorkerId ? await ledger.release(info.step, info.bullWorkerId) : [];
  const queue = ledger.queues.get(info.step);
  for (const taskId of released) {
    const job = await Job.fromId(queue, taskId);
    const payload = stepPayloadSchema.safeParse(job?.data);
    if (!job || !payload.success) continue;
    const run = taskRun(job, payload.data, workerName(info));
    const neighbours = released.filter((id) => id !== taskId);
    const outcome = await ledger.crashed(run, { ...end, neighbours }, deps.maxCrashes);
    logger.warn(outcome === 'failed' ? 'document failed: it crashed its worker too often' : 'a task lost its worker: it runs again', {
      taskId,
      documentId: payload.data.documentId,
      worker: run.worker,
      cause: end.cause,
      how: end.detail,
    });
  }
  await deps.redis.hdel(workersKey(deps.prefix), info.id);
  return released;
}

/** The heartbeat entries of the worker process `pid` on this host (one per step worker it ran). */
export async function workersOfProcess(redis: RedisClient, prefix: string, pid: number): Promise<WorkerInfo[]> {
  const host = hostname();
  return (await heartbeats(redis, prefix)).filter((info) => info.pid === pid && info.host === host);
}

/**
 * Every `heartbeatMs`, looks for workers whose heartbeat stopped three beats ago without a
 * goodbye (a pod killed on another node, a process nobody supervised) and releases their
 * tasks as `vanished`. Silences are judged only once this process's own writes have gone
 * through for three beats (after an outage, a full Redis or a frozen connection, nobody
 * could beat). Every step worker and the orchestrator run one: of several that
 * see the same worker gone, one releases each task (TaskLedger.release is atomic).
 */
export function watchForGoneWorkers(deps: {
  ledger: TaskLedger;
  redis: RedisClient;
  prefix: string;
  heartbeatMs: number;
  maxCrashes: number;
  logger: Logger;
}): { stop(): void } {
  const limit = goneAfterMs(deps.heartbeatMs);
  // While Redis was away, full (maxmemory) or behind a frozen connection, nobody could beat:
  // judge silences only once writes have gone through for `limit`, so everyone could beat again.
  let writableSince = Infinity;
  const onClose = () => (writableSince = Infinity);
  deps.redis.on('close', onClose);
  const probeKey = `${workersKey(deps.prefix)}:watch`;
  let busy = false;
  const look = async () => {
    if (busy) return;
    busy = true;
    try {
      await deps.redis.set(probeKey, Date.now(), 'PX', limit * 2);
      writableSince = Math.min(writableSince, Date.now());
      if (Date.now() - writableSince <= limit) return;
      const now = Date.now();
      for (const info of await heartbeats(deps.redis, deps.prefix)) {
        const silentMs = now - Date.parse(info.lastSeen);
        if (silentMs <= limit) continue;
        await releaseGoneWorker(deps, info, { cause: 'vanished', detail: `no heartbeat for ${Math.round(silentMs / 1000)} s` });
      }
    } catch (err) {
      // Said once per outage, not every beat.
      if (writableSince !== Infinity) deps.logger.warn('cannot look for gone workers', { error: (err as Error).message });
      writableSince = Infinity;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void look(), deps.heartbeatMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      deps.redis.off('close', onClose);
    },
  };
}

/**
 * For a launcher of worker processes (`docproc up`, tests): tell it a process exited, and
 * the tasks its workers held are released at once with the cause its exit shows.
 */
export function exitWitness(
  config: Config,
  logger: Logger,
): { exited(pid: number, code: number | null, signal: NodeJS.Signals | null): Promise<void>; close(): Promise<void> } {
  const redis = createRedis(redisTarget(config), 'worker', logger);
  const ledger = new TaskLedger(
    new BatchStore(redis, config.keyPrefix, config.maxEventsPerJob),
    new StepQueues(redis, config.keyPrefix, taskPolicy(config)),
  );
  const deps = { ledger, redis, prefix: config.keyPrefix, maxCrashes: config.maxCrashes, logger };
  return {
    async exited(pid, code, signal) {
      try {
        for (const info of await workersOfProcess(redis, config.keyPrefix, pid)) await releaseGoneWorker(deps, info, endOfExit(code, signal));
      } catch (err) {
        logger.warn('cannot release the tasks of an exited worker', { pid, error: (err as Error).message });
      }
    },
    async close() {
      await ledger.queues.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
