import { runWorker } from '@docproc/runtime';
import { nlp } from './nlp';

void runWorker({
  service: 'worker-nlp',
  step: 'nlp',
  setup: async (config) => ({ processor: (ctx) => nlp(ctx, config) }),
});
