import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { completeConfig, settings, type Config } from './schema';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`DOCPROC_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`DOCPROC_CONFIG: ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`DOCPROC_CONFIG: ${path} must hold an object`);
  const known = new Set(Object.keys(settings));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new ConfigError(`DOCPROC_CONFIG: unknown setting "${key}" in ${path}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Parses the whole configuration once, from the environment and the optional
 * file named by DOCPROC_CONFIG. Throws a ConfigError naming the variable (or
 * file key) of the first bad value.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const file = env.DOCPROC_CONFIG ? readConfigFile(env.DOCPROC_CONFIG) : {};
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(settings)) {
    const fromEnv = env[setting.env];
    const raw = key in overrides ? overrides[key as keyof Config] : fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[key];
    const source = key in overrides ? key : fromEnv !== undefined && fromEnv !== '' ? setting.env : `${key} in ${env.DOCPROC_CONFIG}`;
    const result = setting.schema.safeParse(raw);
    if (result.success) config[key] = result.data;
    else problems.push(`${source}: ${result.error.issues.map((i) => i.message).join('; ')} (got ${JSON.stringify(raw)})`);
  }
  if (problems.length === 0) {
    const complete = completeConfig(config as Parameters<typeof completeConfig>[0]);
    problems.push(...complete.problems);
    if (problems.length === 0) return complete.config;
  }
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

/** For `main`: parse or exit with the message, never a stack trace. */
export function loadConfigOrExit(app: string, env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${app}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * The environment for processes this one starts: `defaults` (settings by their
 * variable names) where the user has not set them, then this process's own.
 */
export function environmentWith(defaults: Env, env: Env = process.env): Env {
  return { ...defaults, ...env };
}
