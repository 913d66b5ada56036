import { runWorker } from '@docproc/runtime';
import { nlp } from './nlp';

void runWorker({
  service: 'worker-nlp',
  step: 'nlp',
  setup: async () => ({ processor: (ctx) => nlp(ctx) }),
});
