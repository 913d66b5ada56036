import type { StepName } from '@docproc/catalog';
import type { BackendName } from '@docproc/pools';
import type { WorkerInfo } from '@docproc/runtime';

/** Where decisions take effect: processes on this machine, Deployments on Kubernetes, or nowhere. */
export interface ScaleBackend {
  readonly name: BackendName;
  /** Workers each pool runs now and takes tasks with (draining ones do not count). */
  workers(): Promise<Record<StepName, number>>;
  /**
   * Sizes a pool. `live` are the pool's workers by their heartbeats, for a backend
   * that can choose which to stop (the idle ones). Throws a ScaleError it can explain.
   */
  scale(pool: StepName, workers: number, live: WorkerInfo[]): Promise<void>;
  /** What else the backend knows of each pool (restarts after crashes, workers draining). */
  details(): Partial<Record<StepName, { restarts?: number; draining?: number }>>;
}

/** A decision the backend could not carry out, said so an operator can act on it. */
export class ScaleError extends Error {
  override name = 'ScaleError';
}
