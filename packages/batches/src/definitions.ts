import type { RedisClient } from './redis-client';

/** Whose a definition is: a tenant's (its name), or `SHARED`, readable by every tenant. */
export const SHARED = null;
export type DefinitionOwner = string | typeof SHARED;

/**
 * Named definitions users store once and jobs name (classifiers, rule sets): one Redis
 * hash per kind and owner, name to JSON — each tenant's own, and a shared set every tenant
 * reads (what was stored before tenants). Small by design (the API bounds them), so read whole.
 */
export class Definitions<T extends { name: string }> {
  private readonly base: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    kind: 'classifiers' | 'rulesets',
  ) {
    this.base = `${prefix}:definitions:${kind}`;
  }

  private key(owner: DefinitionOwner): string {
    return owner === SHARED ? this.base : `${this.base}:tenant:${owner}`;
  }

  async put(owner: DefinitionOwner, definition: T): Promise<void> {
    await this.redis.hset(this.key(owner), definition.name, JSON.stringify(definition));
  }

  async get(owner: DefinitionOwner, name: string): Promise<T | null> {
    const json = await this.redis.hget(this.key(owner), name);
    return json === null ? null : (JSON.parse(json) as T);
  }

  /** What a job of `tenant` means by `name`: the tenant's own, else the shared one. */
  async find(tenant: string, name: string): Promise<T | null> {
    return (await this.get(tenant, name)) ?? (await this.get(SHARED, name));
  }

  /** Every definition of the owner, by name. */
  async list(owner: DefinitionOwner): Promise<T[]> {
    const all = await this.redis.hgetall(this.key(owner));
    return Object.keys(all)
      .sort()
      .map((name) => JSON.parse(all[name]!) as T);
  }

  /** Whether there was one to delete. */
  async delete(owner: DefinitionOwner, name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key(owner), name)) === 1;
  }
}
