import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '@docproc/config';
import type { Logger } from 'winston';

export type ConnectionRole = 'worker' | 'producer';

/** Where Redis is: a URL, or (Sentinel) the sentinels and the master's name, the URL giving the database and credentials. */
export interface RedisTarget {
  url: string;
  sentinels?: string[];
  master?: string;
  password?: string;
  sentinelPassword?: string;
  /** A connection with no answer this long is made again (see the config's redisSocketTimeoutMs). */
  socketTimeoutMs?: number;
}

/** The Redis every app of a deployment uses, from its config. */
export function redisTarget(
  config: Pick<Config, 'redisUrl' | 'redisSentinels' | 'redisMaster' | 'redisPassword' | 'redisSentinelPassword' | 'redisSocketTimeoutMs'>,
): RedisTarget {
  return {
    socketTimeoutMs: config.redisSocketTimeoutMs,
    url: config.redisUrl,
    sentinels: config.redisSentinels,
    master: config.redisMaster,
    password: config.redisPassword,
    sentinelPassword: config.redisSentinelPassword,
  };
}

/** Where to connect: through the sentinels when there are any (following a failover), else the URL. */
function whereTo(target: RedisTarget): RedisOptions {
  const url = new URL(target.url);
  const credentials: RedisOptions = {
    username: decodeURIComponent(url.username) || undefined,
    password: target.password ?? (decodeURIComponent(url.password) || undefined),
    db: Number(url.pathname.slice(1) || 0),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    // ioredis destroys a socket that owes an answer this long; duplicates (BullMQ's) inherit it.
    ...(target.socketTimeoutMs ? { socketTimeout: target.socketTimeoutMs } : {}),
  };
  if (!target.sentinels?.length || !target.master) return { host: url.hostname, port: Number(url.port || 6379), ...credentials };
  return {
    ...credentials,
    sentinels: target.sentinels.map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
    }),
    name: target.master,
    sentinelPassword: target.sentinelPassword,
    // Not ioredis's failoverDetector: after a failover it left sentinel connections open that
    // kept the process from exiting (tests/test/sentinel.test.ts). A SIGKILLed master's
    // connections drop, and reconnecting asks the sentinels for the new one.
  };
}

/**
 * The one Redis connection factory. Workers block on Redis and must wait out
 * outages (maxRetriesPerRequest: null, as BullMQ requires); producers, the
 * HTTP side, fail fast so a request gets an answer. An `error` listener is
 * always attached: an unhandled one would crash the process. A connection to
 * a node that was demoted (READONLY after a failover) reconnects to the master
 * and sends the command again.
 */
export function createRedis(target: string | RedisTarget, role: ConnectionRole, logger?: Logger): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : // Commands wait for the first connection, then fail after one reconnect attempt.
        { maxRetriesPerRequest: 1, connectTimeout: 5000 };
  const redis = new Redis({
    ...whereTo(typeof target === 'string' ? { url: target } : target),
    ...options,
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    lazyConnect: false,
  });
  let lastMessage = '';
  redis.on('error', (err: Error) => {
    // Reconnect loops repeat the same error: say it once per change.
    if (err.message !== lastMessage) logger?.warn('redis error', { role, error: err.message });
    lastMessage = err.message;
  });
  redis.on('ready', () => {
    lastMessage = '';
  });
  keepAnswering(redis);
  return redis;
}

/**
 * A PING every third of the socket timeout: a connection that
 * stopped answering without closing (a zombie socket) owes an answer then, and ioredis's
 * socketTimeout destroys it and connects again. Busy connections (BullMQ's blocking one) owe
 * answers all the time and need no PING; a connection made with `duplicate()` needs this call.
 */
export function keepAnswering(redis: Redis): Redis {
  const socketTimeoutMs = redis.options.socketTimeout;
  if (!socketTimeoutMs) return redis;
  const timer = setInterval(() => {
    if (redis.status === 'ready') redis.ping().catch(() => undefined);
  }, socketTimeoutMs / 3);
  timer.unref();
  redis.once('end', () => clearInterval(timer));
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
