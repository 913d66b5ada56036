import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-client';

// Renewed or given up only by its holder (the value is the holder's token).
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const GIVE_UP = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * A lease in Redis: one holder at a time among all orchestrators, for work only one of
 * them may do (resuming a batch's fan-out, a retention or orphan sweep). The holder renews
 * it every third of its length while it works; a holder that dies loses it when it runs
 * out, and another takes the work up.
 */
export class Lease {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    private readonly token: string,
    private readonly ms: number,
  ) {}

  /** Takes the lease when nobody holds it; null when somebody does. */
  static async take(redis: RedisClient, key: string, ms: number): Promise<Lease | null> {
    const token = randomUUID();
    if ((await redis.set(key, token, 'PX', ms, 'NX')) !== 'OK') return null;
    const lease = new Lease(redis, key, token, ms);
    lease.timer = setInterval(() => void redis.eval(RENEW, 1, key, token, ms).catch(() => undefined), ms / 3);
    lease.timer.unref();
    return lease;
  }

  /** Runs `work` holding the lease `key`, when nobody else holds it; undefined when somebody does. */
  static async holding<T>(redis: RedisClient, key: string, ms: number, work: () => Promise<T>): Promise<T | undefined> {
    const lease = await Lease.take(redis, key, ms);
    if (!lease) return undefined;
    try {
      return await work();
    } finally {
      await lease.giveUp();
    }
  }

  async giveUp(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(GIVE_UP, 1, this.key, this.token).catch(() => undefined);
  }
}
