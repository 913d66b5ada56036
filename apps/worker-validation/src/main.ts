import { Definitions } from '@docproc/batches';
import type { StoredRuleset } from '@docproc/catalog';
import { createRedis, runWorker, redisTarget } from '@docproc/runtime';
import { RegexThread } from './regex-thread';
import { validate } from './validate';

void runWorker({
  service: 'worker-validation',
  step: 'validate',
  setup: async (config, logger) => {
    const redis = createRedis(redisTarget(config), 'worker', logger);
    const rulesets = new Definitions<StoredRuleset>(redis, config.keyPrefix, 'rulesets');
    const regex = new RegexThread(config.regexTimeoutMs);
    return {
      processor: (ctx) => validate(ctx, { minConfidence: config.minConfidence, ruleset: config.ruleset, rulesets, regex }),
      close: async () => {
        await regex.close();
        await redis.quit();
      },
    };
  },
});
