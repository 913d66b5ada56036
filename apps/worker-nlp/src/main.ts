import { Definitions } from '@docproc/batches';
import type { StoredClassifier } from '@docproc/catalog';
import { createRedis, runWorker, redisTarget } from '@docproc/runtime';
import { nlp } from './nlp';
import { StoredClassifiers } from './stored-classifiers';

void runWorker({
  service: 'worker-nlp',
  step: 'nlp',
  setup: async (config, logger) => {
    const redis = createRedis(redisTarget(config), 'worker', logger);
    const classifiers = new StoredClassifiers(new Definitions<StoredClassifier>(redis, config.keyPrefix, 'classifiers'));
    return {
      processor: (ctx) => nlp(ctx, { ...config, classifiers }),
      close: async () => void (await redis.quit()),
    };
  },
});
