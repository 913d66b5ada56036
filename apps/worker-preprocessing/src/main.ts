import { runWorker } from '@docproc/runtime';
import { preprocess } from './preprocess';

void runWorker({
  service: 'worker-preprocessing',
  step: 'preprocess',
  // sharp works on libuv's thread pool, off the event loop: two jobs keep both cores busy.
  defaultConcurrency: 2,
  setup: async () => ({ processor: (ctx) => preprocess(ctx) }),
});
