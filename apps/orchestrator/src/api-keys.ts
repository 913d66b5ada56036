import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_TENANT, ROLES, apiKeyEntrySchema, tenantEntrySchema, type Quotas, type Role, type TenantWebhook } from '@docproc/catalog';
import type { Config } from '@docproc/config';

/** A key the orchestrator accepts: who it is (its id, never the key), its tenant and roles. */
export interface ApiKey {
  id: string;
  tenant: string;
  roles: readonly Role[];
  /** SHA-256 of the key. */
  digest: Buffer;
}

export const keyDigest = (key: string) => createHash('sha256').update(key).digest();

/** What the keys file says: the keys, the tenants' quotas (`*`: every tenant's without its own) and webhooks. */
export interface Access {
  keys: ApiKey[];
  quotas: Map<string, Quotas>;
  webhooks: Map<string, TenantWebhook>;
}

function readAccessFile(file: string): Access {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`DOCPROC_API_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(entries)) throw new Error(`DOCPROC_API_KEYS_FILE: ${file} is not a JSON array of keys and tenants`);
  const access: Access = { keys: [], quotas: new Map(), webhooks: new Map() };
  for (const [i, entry] of entries.entries()) {
    // A key has its digest; a tenant entry has its quotas.
    const isKey = typeof entry === 'object' && entry !== null && 'sha256' in entry;
    const parsed = (isKey ? apiKeyEntrySchema : tenantEntrySchema).safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`DOCPROC_API_KEYS_FILE: ${file} at ${[i, ...issue.path].join('.')}: ${issue.message}`);
    }
    if ('sha256' in parsed.data) {
      const key = parsed.data;
      access.keys.push({ id: key.id, tenant: key.tenant, roles: [...new Set(key.roles)], digest: Buffer.from(key.sha256.toLowerCase(), 'hex') });
    } else {
      if (access.quotas.has(parsed.data.tenant)) throw new Error(`DOCPROC_API_KEYS_FILE: the tenant ${parsed.data.tenant} has two entries`);
      access.quotas.set(parsed.data.tenant, parsed.data.quotas);
      if (parsed.data.webhook) access.webhooks.set(parsed.data.tenant, parsed.data.webhook);
    }
  }
  return access;
}

/**
 * Every key the orchestrator accepts, and the tenants' quotas: DOCPROC_API_KEYS_FILE's, and
 * DOCPROC_API_KEYS's keys as the default tenant's with every role (ids key-1, key-2, …).
 * Throws, naming the entry, on a bad file, a repeated id or a repeated key.
 */
export function loadAccess(config: Pick<Config, 'apiKeys' | 'apiKeysFile'>): Access {
  const access: Access = config.apiKeysFile ? readAccessFile(config.apiKeysFile) : { keys: [], quotas: new Map(), webhooks: new Map() };
  access.keys.push(...config.apiKeys.map((key, i) => ({ id: `key-${i + 1}`, tenant: DEFAULT_TENANT, roles: ROLES, digest: keyDigest(key) })));
  const ids = new Set<string>();
  const digests = new Set<string>();
  for (const key of access.keys) {
    if (ids.has(key.id)) throw new Error(`API keys: the id ${key.id} is given twice`);
    if (digests.has(key.digest.toString('hex'))) throw new Error(`API keys: ${key.id} is the same key as another`);
    ids.add(key.id);
    digests.add(key.digest.toString('hex'));
  }
  return access;
}

/**
 * The keys now: the file is looked at (stat) at most once a second and read again when it
 * changed, so a key is added or revoked without a restart (a Kubernetes Secret's update
 * too). A file that turns bad keeps the keys before it, and says why once.
 */
export class KeyRing {
  /** No keys configured at all: the API is open (main.ts allows that on loopback only). A file, even empty, closes it. */
  readonly open: boolean;
  private current: Access;
  private seen: string;
  private lookedAt = Date.now();

  constructor(
    private readonly config: Pick<Config, 'apiKeys' | 'apiKeysFile'>,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.current = loadAccess(config);
    this.open = !config.apiKeysFile && this.current.keys.length === 0;
    this.seen = this.version();
  }

  keys(): readonly ApiKey[] {
    return this.access().keys;
  }

  /** The tenant's quotas: its own entry's, else the `*` entry's, else none. */
  quotasOf(tenant: string): Quotas {
    const { quotas } = this.access();
    return quotas.get(tenant) ?? quotas.get('*') ?? {};
  }

  /** The tenant's webhook: its own entry's, else the `*` entry's, else none. */
  webhookOf(tenant: string): TenantWebhook | undefined {
    const { webhooks } = this.access();
    return webhooks.get(tenant) ?? webhooks.get('*');
  }

  /** The tenants the file names (keys' and quota entries'). */
  tenants(): string[] {
    const { keys, quotas } = this.access();
    return [...new Set([...keys.map((k) => k.tenant), ...quotas.keys()])].filter((t) => t !== '*').sort();
  }

  private access(): Access {
    if (!this.config.apiKeysFile || Date.now() - this.lookedAt < 1000) return this.current;
    this.lookedAt = Date.now();
    const version = this.version();
    if (version === this.seen) return this.current;
    this.seen = version;
    try {
      this.current = loadAccess(this.config);
    } catch (err) {
      this.onError(`${(err as Error).message}: the keys read before stay in use`);
    }
    return this.current;
  }

  private version(): string {
    if (!this.config.apiKeysFile) return '';
    try {
      const stat = statSync(this.config.apiKeysFile);
      return `${stat.mtimeMs}/${stat.size}/${stat.ino}`;
    } catch {
      return 'missing';
    }
  }
}
