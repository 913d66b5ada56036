import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { TenantWebhook } from '@docproc/catalog';
import type { Config } from '@docproc/config';
import type { Logger } from '@docproc/runtime';
import { publicOnlyLookup } from './addresses';
import type { DeliveryAttempt, Deliveries } from './deliveries';
import { signature } from './sign';

const WEBHOOK_QUEUE = 'webhooks';
const LONGEST_WAIT_MS = 3_600_000;
const RETRY_FOR_MS = 86_400_000;

/** The wait before try `n` (1: the first retry): doubling from `baseMs`, at most an hour. */
export const retryDelay = (n: number, baseMs: number) => Math.min(baseMs * 2 ** (n - 1), LONGEST_WAIT_MS);

/** How many tries a delivery gets so that retries go on for a day at least. */
export function triesFor(baseMs: number): number {
  let tries = 1;
  for (let waited = 0; waited < RETRY_FOR_MS; tries++) waited += retryDelay(tries, baseMs);
  return tries;
}

export function webhookQueue(connection: ConnectionOptions, prefix: string, config: Pick<Config, 'webhookRetryMs'>): Queue {
  return new Queue(WEBHOOK_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: triesFor(config.webhookRetryMs),
      backoff: { type: 'webhook' },
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    },
  });
}

/** One POST of the body, signed; the receiver's status, or the reason it could not be had. */
function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'docproc-webhooks',
        },
        timeout: timeoutMs,
        ...(allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        res.resume(); // the answer's body is not read
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Delivers webhooks from their own queue, so a receiver that is down or slow holds up only
 * its deliveries, never a step: each try signed as Standard Webhooks says (webhook-id,
 * webhook-timestamp, webhook-signature with the tenant's secret), recorded, and retried
 * doubling from DOCPROC_WEBHOOK_RETRY_MS for a day or more.
 */
export function startDelivering(deps: {
  connection: ConnectionOptions;
  prefix: string;
  deliveries: Deliveries;
  secretOf: (tenant: string) => TenantWebhook['secret'] | undefined;
  config: Pick<Config, 'webhookRetryMs' | 'webhookTimeoutMs' | 'webhookAllowPrivate'>;
  logger: Logger;
}): Worker {
  const { deliveries, config, logger } = deps;
  const worker = new Worker<{ deliveryId: string }>(
    WEBHOOK_QUEUE,
    async (job) => {
      const delivery = await deliveries.get(job.data.deliveryId);
      if (!delivery) return; // its job was deleted
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const secret = deps.secretOf(delivery.tenant);
      const started = Date.now();
      const attempt: DeliveryAttempt = { at: new Date(started).toISOString(), ms: 0 };
      try {
        if (!secret) throw new UnrecoverableError(`tenant ${delivery.tenant} has no webhook secret any more`);
        const timestamp = Math.floor(started / 1000);
        const headers = {
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature(secret, delivery.id, timestamp, delivery.payload),
        };
        attempt.status = await post(delivery.url, headers, delivery.payload, config.webhookTimeoutMs, config.webhookAllowPrivate);
        if (attempt.status < 200 || attempt.status >= 300) throw new Error(`the receiver answered ${attempt.status}`);
        attempt.ms = Date.now() - started;
        await deliveries.attempted(delivery.id, attempt, 'delivered');
      } catch (err) {
        attempt.ms = Date.now() - started;
        attempt.error ??= (err as Error).message;
        const final = last || err instanceof UnrecoverableError;
        await deliveries.attempted(delivery.id, attempt, final ? 'failed' : 'pending');
        if (final) logger.warn('webhook not delivered', { delivery: delivery.id, url: delivery.url, error: attempt.error });
        throw err;
      }
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: 16,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, config.webhookRetryMs) },
    },
  );
  worker.on('error', (err) => logger.warn('webhook worker error', { error: err.message }));
  return worker;
}
