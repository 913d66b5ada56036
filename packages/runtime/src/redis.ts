import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'winston';

export type ConnectionRole = 'worker' | 'producer';

/**
 * The one Redis connection factory. Workers block on Redis and must wait out
 * outages (maxRetriesPerRequest: null, as BullMQ requires); producers, the
 * HTTP side, fail fast so a request gets an answer. An `error` listener is
 * always attached: an unhandled one would crash the process.
 */
export function createRedis(url: string, role: ConnectionRole, logger?: Logger): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : // Commands wait for the first connection, then fail after one reconnect attempt.
        { maxRetriesPerRequest: 1, connectTimeout: 5000 };
  const redis = new Redis(url, { ...options, lazyConnect: false });
  let lastMessage = '';
  redis.on('error', (err: Error) => {
    // Reconnect loops repeat the same error: say it once per change.
    if (err.message !== lastMessage) logger?.warn('redis error', { role, error: err.message });
    lastMessage = err.message;
  });
  redis.on('ready', () => {
    lastMessage = '';
  });
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
