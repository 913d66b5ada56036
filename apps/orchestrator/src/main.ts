import { BatchStore, StepQueues, jobPolicy } from '@docproc/batches';
import { loadConfigOrExit } from '@docproc/config';
import { createLogger, createRedis, installShutdown } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { createApp } from './app';
import { isLoopback } from './auth';
import { startRetention } from './retention';
import { fanOut } from './submit-route';

const config = loadConfigOrExit('orchestrator');
const logger = createLogger('orchestrator', config.logLevel);

if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
  logger.error('refusing to listen on a non-loopback address without API keys: set DOCPROC_API_KEYS or HOST=127.0.0.1', { host: config.host });
  process.exit(78);
}

const redis = createRedis(config.redisUrl, 'producer', logger);
const queues = new StepQueues(redis, config.keyPrefix, jobPolicy(config));
const store = new BatchStore(redis, config.keyPrefix, config.maxEventsPerJob);
const blobs = new LocalBlobStore(config.dataDir);
const app = createApp({ config, redis, store, queues, blobs, logger });
const stopRetention = startRetention({ redis, store, queues, blobs, logger, retentionHours: config.retentionHours }, config.retentionSweepSeconds);

// Large batches whose fan-out a previous run did not finish go on now (queueing twice is a no-op).
void store.fanningOut().then((ids) => Promise.all(ids.map((id) => fanOut({ store, queues, logger }, id))));

const server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('orchestrator listening', {
    url: `http://${config.host}:${port}`,
    auth: config.apiKeys.length > 0 ? 'api keys' : 'none (loopback only)',
  });
  if (config.apiKeys.length === 0) logger.warn('no DOCPROC_API_KEYS: the API is open to anyone on this machine, and only on loopback');
});

installShutdown(logger, [
  ['stop accepting requests', () => new Promise<void>((resolve) => server.close(() => resolve()))],
  ['stop the retention sweeper', stopRetention],
  ['close the queues', () => queues.close()],
  ['close Redis', async () => void (await redis.quit())],
]);
