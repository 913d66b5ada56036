import type { RedisClient } from '@docproc/batches';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '@docproc/config';
import type { Logger } from 'winston';

export type { RedisClient };

export type ConnectionRole = 'worker' | 'producer';

/**
 * Where Redis is: a URL; or (Sentinel) the sentinels and the master's name; or (Cluster)
 * some of the cluster's nodes — the URL then giving the database and credentials.
 */
export interface RedisTarget {
  url: string;
  sentinels?: string[];
  master?: string;
  clusterNodes?: string[];
  password?: string;
  sentinelPassword?: string;
  /** A connection with no answer this long is made again (see the config's redisSocketTimeoutMs). */
  socketTimeoutMs?: number;
}

/** The Redis every app of a deployment uses, from its config. */
export function redisTarget(
  config: Pick<
    Config,
    'redisUrl' | 'redisSentinels' | 'redisMaster' | 'redisClusterNodes' | 'redisPassword' | 'redisSentinelPassword' | 'redisSocketTimeoutMs'
  >,
): RedisTarget {
  return {
    socketTimeoutMs: config.redisSocketTimeoutMs,
    url: config.redisUrl,
    sentinels: config.redisSentinels,
    clusterNodes: config.redisClusterNodes,
    master: config.redisMaster,
    password: config.redisPassword,
    sentinelPassword: config.redisSentinelPassword,
  };
}

/** Where the apps find Redis, in words for a log line (never its password). */
export function describeRedis(target: RedisTarget): string {
  if (target.sentinels?.length) return `Redis "${target.master}" through the sentinels ${target.sentinels.join(', ')}`;
  if (target.clusterNodes?.length) return `the Redis Cluster at ${target.clusterNodes.join(', ')}`;
  const url = new URL(target.url);
  url.username = '';
  url.password = '';
  return `Redis at ${url.toString().replace(/\/$/, '')}`;
}

function hostAndPort(entry: string): { host: string; port: number } {
  const at = entry.lastIndexOf(':');
  return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
}

/** The URL's credentials, database and TLS, and the socket timeout: what every connection to a data node takes. */
function nodeOptions(target: RedisTarget): RedisOptions {
  const url = new URL(target.url);
  return {
    username: decodeURIComponent(url.username) || undefined,
    password: target.password ?? (decodeURIComponent(url.password) || undefined),
    db: Number(url.pathname.slice(1) || 0),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    // ioredis destroys a socket that owes an answer this long; duplicates (BullMQ's) inherit it.
    ...(target.socketTimeoutMs ? { socketTimeout: target.socketTimeoutMs } : {}),
  };
}

/** Where to connect to one Redis: through the sentinels when there are any (following a failover), else the URL. */
function whereTo(target: RedisTarget): RedisOptions {
  const url = new URL(target.url);
  if (!target.sentinels?.length || !target.master) return { host: url.hostname, port: Number(url.port || 6379), ...nodeOptions(target) };
  return {
    ...nodeOptions(target),
    sentinels: target.sentinels.map(hostAndPort),
    name: target.master,
    sentinelPassword: target.sentinelPassword,
    // Not ioredis's failoverDetector: after a failover it left sentinel connections open that
    // kept the process from exiting (tests/test/sentinel.test.ts). A SIGKILLed master's
    // connections drop, and reconnecting asks the sentinels for the new one.
  };
}

/** The nodes each cluster connection was made with (ioredis keeps its own private). */
const clusterStartupNodes = new WeakMap<Cluster, { host: string; port: number }[]>();

/**
 * A failover takes a cluster node-timeout or so; until then a slot's commands wait and retry
 * rather than fail (ioredis's defaults give up after a few hundred ms).
 */
const clusterTiming = { retryDelayOnClusterDown: 300, retryDelayOnFailover: 300, retryDelayOnTryAgain: 300, maxRedirections: 64 };

/**
 * The one Redis connection factory. Workers block on Redis and must wait out
 * outages (maxRetriesPerRequest: null, as BullMQ requires); producers, the
 * HTTP side, fail fast so a request gets an answer. An `error` listener is
 * always attached: an unhandled one would crash the process. A connection to
 * a node that was demoted (READONLY after a failover) reconnects to the master
 * and sends the command again. With cluster nodes it is an ioredis Cluster,
 * which follows the slots' moves and failovers itself.
 */
export function createRedis(target: string | RedisTarget, role: ConnectionRole, logger?: Logger): RedisClient {
  const where = typeof target === 'string' ? { url: target } : target;
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : // Commands wait for the first connection, then fail after one reconnect attempt.
        { maxRetriesPerRequest: 1, connectTimeout: 5000 };
  const reconnectOnError = (err: Error) => (err.message.startsWith('READONLY') ? 2 : false);
  const redis: RedisClient = where.clusterNodes?.length
    ? new Cluster(where.clusterNodes.map(hostAndPort), {
        ...clusterTiming,
        // A cluster has only database 0.
        redisOptions: { ...nodeOptions(where), db: undefined, ...options },
        enableReadyCheck: true,
        lazyConnect: false,
      })
    : new Redis({ ...whereTo(where), ...options, reconnectOnError, lazyConnect: false });
  if (redis instanceof Cluster) clusterStartupNodes.set(redis, where.clusterNodes!.map(hostAndPort));
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
export function keepAnswering(redis: RedisClient): RedisClient {
  const socketTimeoutMs = socketTimeoutOf(redis);
  if (!socketTimeoutMs) return redis;
  const timer = setInterval(() => {
    if (redis.status !== 'ready') return;
    // A cluster's every node connection.
    for (const node of redis instanceof Cluster ? redis.nodes() : [redis]) node.ping().catch(() => undefined);
  }, socketTimeoutMs / 3);
  timer.unref();
  redis.once('end', () => clearInterval(timer));
  return redis;
}

/**
 * What a thread of the process needs to make its own connection like `redis` (functions
 * cannot cross): a cluster's nodes and every node's options, or the one Redis's options.
 */
export function connectionRecipe(redis: RedisClient): { clusterNodes?: { host: string; port: number }[]; options: RedisOptions } {
  const pick = (o: RedisOptions): RedisOptions => {
    const { host, port, path, username, password, db, tls, sentinels, name, sentinelPassword, sentinelUsername, role, socketTimeout } = o;
    return JSON.parse(
      JSON.stringify({ host, port, path, username, password, db, tls, sentinels, name, sentinelPassword, sentinelUsername, role, socketTimeout }),
    );
  };
  if (!(redis instanceof Cluster)) return { options: pick(redis.options) };
  const known = redis.nodes().map((n) => ({ host: n.options.host!, port: n.options.port! }));
  return { clusterNodes: known.length > 0 ? known : clusterStartupNodes.get(redis), options: pick(redis.options.redisOptions ?? {}) };
}

/** A new connection like `redis`, with `enableAutoPipelining` set as given; it needs keepAnswering too. */
export function duplicateOf(redis: RedisClient, enableAutoPipelining = false): RedisClient {
  return redis instanceof Cluster ? redis.duplicate([], { enableAutoPipelining }) : redis.duplicate({ enableAutoPipelining });
}

function socketTimeoutOf(redis: RedisClient): number | undefined {
  return redis instanceof Cluster ? redis.options.redisOptions?.socketTimeout : redis.options.socketTimeout;
}

/**
 * The connection to the node that holds `key`'s slot: the client itself, or on a cluster
 * the slot's master — where keyless commands about that key must go (WAIT, INFO).
 */
export function nodeHolding(redis: RedisClient, key: string): Redis {
  if (!(redis instanceof Cluster)) return redis;
  const master = redis.slots[calculateSlot(key)]?.[0];
  const node = redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master);
  if (!node) throw new Error(`no connection to the node of slot ${calculateSlot(key)} (${master ?? 'unknown'}) yet`);
  return node;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
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
