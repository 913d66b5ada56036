import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_TENANT, ROLES, apiKeyEntrySchema, type Role } from '@docproc/catalog';
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

function keysFromFile(file: string): ApiKey[] {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`DOCPROC_API_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = z.array(apiKeyEntrySchema).safeParse(entries);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`DOCPROC_API_KEYS_FILE: ${file} at ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }
  return parsed.data.map((entry) => ({
    id: entry.id,
    tenant: entry.tenant,
    roles: [...new Set(entry.roles)],
    digest: Buffer.from(entry.sha256.toLowerCase(), 'hex'),
  }));
}

/**
 * Every key the orchestrator accepts: DOCPROC_API_KEYS_FILE's, and DOCPROC_API_KEYS's as
 * the default tenant's with every role (ids key-1, key-2, …). Throws, naming the entry, on
 * a bad file, a repeated id or a repeated key.
 */
export function loadApiKeys(config: Pick<Config, 'apiKeys' | 'apiKeysFile'>): ApiKey[] {
  const keys = [
    ...(config.apiKeysFile ? keysFromFile(config.apiKeysFile) : []),
    ...config.apiKeys.map((key, i) => ({ id: `key-${i + 1}`, tenant: DEFAULT_TENANT, roles: ROLES, digest: keyDigest(key) })),
  ];
  const ids = new Set<string>();
  const digests = new Set<string>();
  for (const key of keys) {
    if (ids.has(key.id)) throw new Error(`API keys: the id ${key.id} is given twice`);
    if (digests.has(key.digest.toString('hex'))) throw new Error(`API keys: ${key.id} is the same key as another`);
    ids.add(key.id);
    digests.add(key.digest.toString('hex'));
  }
  return keys;
}

/**
 * The keys now: the file is looked at (stat) at most once a second and read again when it
 * changed, so a key is added or revoked without a restart (a Kubernetes Secret's update
 * too). A file that turns bad keeps the keys before it, and says why once.
 */
export class KeyRing {
  /** No keys configured at all: the API is open (main.ts allows that on loopback only). A file, even empty, closes it. */
  readonly open: boolean;
  private current: ApiKey[];
  private seen: string;
  private lookedAt = Date.now();

  constructor(
    private readonly config: Pick<Config, 'apiKeys' | 'apiKeysFile'>,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.current = loadApiKeys(config);
    this.open = !config.apiKeysFile && this.current.length === 0;
    this.seen = this.version();
  }

  keys(): readonly ApiKey[] {
    if (!this.config.apiKeysFile || Date.now() - this.lookedAt < 1000) return this.current;
    this.lookedAt = Date.now();
    const version = this.version();
    if (version === this.seen) return this.current;
    this.seen = version;
    try {
      this.current = loadApiKeys(this.config);
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
