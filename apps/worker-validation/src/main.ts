import { runWorker } from '@docproc/runtime';
import { validate } from './validate';

void runWorker({
  service: 'worker-validation',
  step: 'validate',
  setup: async (config) => ({ processor: (ctx) => validate(ctx, config.minConfidence) }),
});
