import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './fixtures';
import { waitFor } from './redis';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
/** The built `docproc` CLI. */
export const CLI = join(REPO_ROOT, 'apps', 'cli', 'dist', 'main.js');

/** A `docproc up` (or `pnpm start`) run by a test, with its own Redis and API ports. */
export interface Launch {
  child: ChildProcess;
  /** In the environment of every process the launch starts. */
  marker: string;
  redisPort: number;
  apiPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The processes (pid and command) a launch started: those whose environment holds its
 * marker, and its redis-server (which writes its title over its environment).
 */
export function processesOf(run: Launch): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      const ours =
        command.startsWith(`redis-server 127.0.0.1:${run.redisPort}`) ||
        readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(run.marker);
      if (ours) found.push(`${pid} ${command}`);
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/**
 * `docproc up` (or `pnpm start`) on a Redis port of its own — so it starts and
 * must stop its own redis-server — and an API port of its own.
 */
export async function launch(command: string[], env: Record<string, string> = {}): Promise<Launch> {
  const redisPort = await freePort();
  const apiPort = await freePort();
  let output = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-up-'));
  const child = spawn(command[0]!, command.slice(1), {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PORT: String(apiPort),
      DOCPROC_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own group: like a terminal's foreground job
  });
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, marker: `DOCPROC_DATA_DIR=${dataDir}`, redisPort, apiPort, output: () => output, exited };
}

/** Until the launcher says the platform is ready. */
export async function untilReady(run: Launch): Promise<void> {
  await waitFor(async () => (run.output().includes('ready: API on') ? true : undefined), 90_000, 'docproc up ready');
}

/** Waits until every process of the launch has exited; returns those still there after `timeoutMs`. */
export async function whenAllExited(run: Launch, timeoutMs = 40_000): Promise<string[]> {
  await waitFor(async () => (processesOf(run).length === 0 ? true : undefined), timeoutMs, 'every process to exit').catch(() => undefined);
  return processesOf(run);
}
