import type { RedisClient } from './redis-client';

/**
 * Named definitions users store once and jobs name (classifiers, rule sets): one Redis
 * hash per kind, name to JSON. Small by design (the API bounds them), so read whole.
 */
export class Definitions<T extends { name: string }> {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    kind: 'classifiers' | 'rulesets',
  ) {
    this.key = `${prefix}:definitions:${kind}`;
  }

  async put(definition: T): Promise<void> {
    await this.redis.hset(this.key, definition.name, JSON.stringify(definition));
  }

  async get(name: string): Promise<T | null> {
    const json = await this.redis.hget(this.key, name);
    return json === null ? null : (JSON.parse(json) as T);
  }

  async has(name: string): Promise<boolean> {
    return (await this.redis.hexists(this.key, name)) === 1;
  }

  /** Every definition, by name. */
  async list(): Promise<T[]> {
    const all = await this.redis.hgetall(this.key);
    return Object.keys(all)
      .sort()
      .map((name) => JSON.parse(all[name]!) as T);
  }

  /** Whether there was one to delete. */
  async delete(name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, name)) === 1;
  }
}
