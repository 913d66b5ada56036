import type { RedisClient } from '@docproc/runtime';
import type { BatchStore, StepQueues } from '@docproc/batches';
import type { Config } from '@docproc/config';
import type { Logger } from '@docproc/runtime';
import type { BlobStore } from '@docproc/storage';

/** What the HTTP API is made of; `main` builds it, tests build their own. */
export interface AppDeps {
  config: Config;
  /** A producer connection (fails fast). */
  redis: RedisClient;
  store: BatchStore;
  queues: StepQueues;
  blobs: BlobStore;
  logger: Logger;
}
