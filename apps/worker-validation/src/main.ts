import { runWorker } from '@docproc/runtime';
import { validate } from './validate';

void runWorker({
  service: 'worker-validation',
  step: 'validate',
  defaultConcurrency: 8,
  setup: async (config) => ({ processor: (ctx) => validate(ctx, config.minConfidence) }),
});
