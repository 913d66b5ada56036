import { BatchStore, StepQueues, TaskLedger, taskPolicy } from '@docproc/batches';
import { loadConfigOrExit } from '@docproc/config';
import { announceReady, createLogger, createRedis, describeRedis, installShutdown, watchForGoneWorkers, redisTarget } from '@docproc/runtime';
import { openBlobStore } from '@docproc/storage';
import { createApp } from './app';
import { KeyRing, loadAccess, type ApiKey } from './api-keys';
import { startDelivering, webhookQueue } from './webhooks/deliver';
import { Deliveries } from './webhooks/deliveries';
import { startDispatching } from './webhooks/dispatch';
import { isLoopback } from './auth';
import { readPlatformState } from './platform-state';
import { startHousekeeping } from './housekeeping';
import { startSummaryLog } from './stats';
import { createGuardedServer } from './slow-clients';

const config = loadConfigOrExit('orchestrator');
const logger = createLogger('orchestrator', config.logLevel, config.logFormat);

let keys: ApiKey[] = [];
try {
  keys = loadAccess(config).keys;
} catch (err) {
  logger.error('cannot use the API keys', { error: (err as Error).message });
  process.exit(78); // EX_CONFIG
}
if (keys.length === 0 && !isLoopback(config.host)) {
  logger.error('refusing to listen on a non-loopback address without API keys: set DOCPROC_API_KEYS_FILE (or DOCPROC_API_KEYS) or HOST=127.0.0.1', {
    host: config.host,
  });
  process.exit(78);
}

const blobs = openBlobStore(config);
// A bucket that is missing or refused stops the start, with the reason, before anything listens.
blobs.check().then(start, (err: Error) => {
  logger.error('cannot use the blob store', { error: err.message });
  process.exit(78); // EX_CONFIG
});

function start(): void {
  const redis = createRedis(redisTarget(config), 'producer', logger);
  const queues = new StepQueues(redis, config.keyPrefix, taskPolicy(config));
  const store = new BatchStore(redis, config.keyPrefix, config.maxEventsPerJob);
  const app = createApp({ config, redis, store, queues, blobs, logger });
  const stopSummary = startSummaryLog(() => readPlatformState({ redis, queues, store, config }), logger, config.metricsLogIntervalSeconds);
  // Workers whose heartbeat stopped have their tasks released, even when no other worker is left to see it.
  const goneWatch = watchForGoneWorkers({
    ledger: new TaskLedger(store, queues),
    redis,
    prefix: config.keyPrefix,
    heartbeatMs: config.heartbeatMs,
    maxCrashes: config.maxCrashes,
    logger,
  });
  const stopHousekeeping = startHousekeeping({ redis, store, queues, blobs, logger }, config);
  // Webhooks: the batches' events become deliveries, sent from a queue of their own.
  const ring = new KeyRing(config, (message) => logger.error('cannot use the API keys file', { error: message }));
  const deliveries = new Deliveries(redis, store.keys);
  const webhookJobs = webhookQueue(redis, config.keyPrefix, config);
  const stopDispatching = startDispatching({ store, deliveries, queue: webhookJobs, logger });
  const deliveryConnection = createRedis(redisTarget(config), 'worker', logger);
  const deliveryWorker = startDelivering({
    connection: deliveryConnection,
    prefix: config.keyPrefix,
    deliveries,
    secretOf: (tenant) => ring.webhookOf(tenant)?.secret,
    config,
    logger,
  });

  // Not app.listen: Express 5 calls its callback on a failed listen too.
  const server = createGuardedServer(
    app,
    { headersTimeoutMs: config.headersTimeoutMs, minUploadBytesPerSecond: config.minUploadBytesPerSecond, uploadGraceMs: config.uploadGraceMs },
    logger,
  );
  server.listen(config.port, config.host);
  server.once('listening', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info('orchestrator listening', {
      url: `http://${config.host}:${port}`,
      auth: keys.length > 0 ? `${keys.length} API key(s) of ${new Set(keys.map((k) => k.tenant)).size} tenant(s)` : 'none (loopback only)',
      redis: describeRedis(redisTarget(config)),
    });
    if (keys.length === 0) logger.warn('no API keys: the API is open to anyone on this machine, and only on loopback');
    announceReady();
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    const reason =
      err.code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is already in use (is docproc already running? PORT picks another)`
        : `cannot listen on ${config.host}:${config.port}: ${err.message}`;
    logger.error(reason, { code: err.code });
    process.exit(69); // EX_UNAVAILABLE
  });

  installShutdown(
    logger,
    [
      ['stop accepting requests', () => new Promise<void>((resolve) => server.close(() => resolve()))],
      ['stop the housekeeping rounds', stopHousekeeping],
      ['stop dispatching webhooks', async () => stopDispatching()],
      ['stop delivering webhooks', () => deliveryWorker.close()],
      ['close the webhook queue', () => webhookJobs.close()],
      ['stop watching for gone workers', async () => goneWatch.stop()],
      ['stop the summary line', stopSummary],
      ['close the queues', () => queues.close()],
      ['close Redis', async () => void (await Promise.all([redis.quit(), deliveryConnection.quit()]))],
      ['close the blob store', async () => blobs.close()],
    ],
    { limitMs: config.drainMs, drainMs: config.drainMs, redis },
  );
}
