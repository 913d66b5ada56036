export { createRedis, waitForRedis, type ConnectionRole } from './redis';
export { createLogger, type Logger } from './logger';
export { Heartbeat, liveWorkers, workersKey, type WorkerInfo } from './heartbeat';
export {
  startStepWorker,
  type StepContext,
  type StepProcessor,
  type PageWork,
  type StepWorker,
  type StepWorkerOptions,
  type StepJobReturn,
} from './step-worker';
export { runWorker, type WorkerApp } from './run-worker';
export { installShutdown, type ShutdownStep } from './shutdown';
