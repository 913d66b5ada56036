import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_TENANT, ROLES, TENANT_NAME, type Role } from '@docproc/catalog';
import type { Config } from '@docproc/config';

/** A key the orchestrator accepts: who it is (its id, never the key), its tenant and roles. */
export interface ApiKey {
  id: string;
  tenant: string;
  roles: readonly Role[];
  /** SHA-256 of the key. */
  digest: Buffer;
}

const keyEntrySchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ., _ and - (at most 64)'),
    tenant: z.string().regex(TENANT_NAME, 'lower-case letters, digits, - and _ (at most 63)'),
    roles: z.array(z.enum(ROLES)).min(1),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the hex SHA-256 of the key (64 hex digits)'),
  })
  .strict();

export const keyDigest = (key: string) => createHash('sha256').update(key).digest();

function keysFromFile(file: string): ApiKey[] {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`DOCPROC_API_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = z.array(keyEntrySchema).safeParse(entries);
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
