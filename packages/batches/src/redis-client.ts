import type { Cluster, Redis } from 'ioredis';

/** A connection to one Redis (perhaps found through Sentinel) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;
