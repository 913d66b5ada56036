import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { apiKeyEntrySchema, type ApiKeyEntry } from '@docproc/catalog';
import { CliError } from './client';
import { EXIT } from './exit-codes';

/**
 * `docproc new-key`: makes a key for a tenant, prints it once, and adds its entry (its
 * SHA-256, never the key) to the API keys file, or prints the entry to add by hand.
 */
export function newKey(options: { id: string; tenant: string; roles: string; file?: string }): number {
  const key = `dpk_${randomBytes(32).toString('base64url')}`;
  const parsed = apiKeyEntrySchema.safeParse({
    id: options.id,
    tenant: options.tenant,
    roles: options.roles.split(',').map((role) => role.trim()),
    sha256: createHash('sha256').update(key).digest('hex'),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`--${String(issue.path[0] ?? 'roles')}: ${issue.message}`, EXIT.usage);
  }
  const entry = parsed.data;
  if (options.file) addTo(options.file, entry);
  process.stdout.write(`key ${entry.id} of tenant ${entry.tenant} (${entry.roles.join(', ')}): ${key}\n`);
  process.stdout.write('  it is shown only now: give it to its user (DOCPROC_API_KEY, or --key)\n');
  if (options.file) process.stdout.write(`  added to ${options.file}; the orchestrator reads it at its next start (DOCPROC_API_KEYS_FILE)\n`);
  else process.stdout.write(`  add this entry to the API keys file (DOCPROC_API_KEYS_FILE):\n  ${JSON.stringify(entry)}\n`);
  return EXIT.ok;
}

/** Appends the entry to the file's array (made when missing), refusing an id already there; written whole, then renamed. */
function addTo(file: string, entry: ApiKeyEntry): void {
  const entries: ApiKeyEntry[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
  if (!Array.isArray(entries)) throw new CliError(`${file} is not a JSON array of keys`, EXIT.usage);
  if (entries.some((e) => e.id === entry.id)) throw new CliError(`${file} has a key ${entry.id} already: choose another --id`, EXIT.usage);
  writeFileSync(`${file}.tmp`, `${JSON.stringify([...entries, entry], null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
