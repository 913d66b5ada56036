export { shortageOf, ShortageError, type Shortage } from './shortage';
export {
  createRedis,
  keepAnswering,
  nodeHolding,
  describeRedis,
  redisTarget,
  waitForRedis,
  type ConnectionRole,
  type RedisClient,
  type RedisTarget,
} from './redis';
export { createLogger, TESSERACT_QUIET, type Logger, type LogFormat } from './logger';
export {
  Heartbeat,
  announceCapabilities,
  heartbeats,
  workerName,
  liveWorkers,
  staleAfterMs,
  stepCapabilities,
  workersKey,
  type WorkerCapabilities,
  type WorkerInfo,
} from './heartbeat';
export type { StepContext, StepProcessor, PageWork } from './step-context';
export { runTask, type TaskDeps, type TaskReturn, type BullTask } from './run-task';
export { endOfExit, exitWitness, releaseGoneWorker, watchForGoneWorkers, workersOfProcess } from './gone-workers';
export { startStepWorker, stepWorkerSettings, type StepWorker, type StepWorkerOptions } from './step-worker';
export { runWorker, type WorkerApp } from './run-worker';
export { announceReady, installShutdown, type DrainLimits, type ShutdownStep } from './shutdown';
export { startHealthServer, type HealthChecks } from './health-server';
export { untilStopped, type StopWhen } from './stoppable';
export { Stages, type StageTime } from './stages';
