import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '@docproc/testkit';

const REPO_ROOT = resolve(__dirname, '..', '..');
const CLI = join(REPO_ROOT, 'apps', 'cli', 'dist', 'main.js');

/**
 * The processes (pid and command) a launch started: those whose environment holds its
 * marker, and its redis-server (which writes its title over its environment).
 */
function processesOf(run: Launch): string[] {
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

const launched: Launch[] = [];

interface Launch {
  child: ChildProcess;
  /** In the environment of every process the launch starts. */
  marker: string;
  redisPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `docproc up` (or `pnpm start`) on a Redis port of its own — so it starts and
 * must stop its own redis-server — and an API port of its own.
 */
async function launch(command: string[], env: Record<string, string> = {}): Promise<Launch> {
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
      DOCPROC_OCR_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own group: like a terminal's foreground job
  });
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const run = { child, marker: `DOCPROC_DATA_DIR=${dataDir}`, redisPort, output: () => output, exited };
  launched.push(run);
  return run;
}

async function untilReady(run: Launch): Promise<void> {
  await waitFor(async () => (run.output().includes('ready: API on') ? true : undefined), 90_000, 'docproc up ready');
}

async function expectNoneLeft(run: Launch): Promise<void> {
  await waitFor(async () => (processesOf(run).length === 0 ? true : undefined), 40_000, 'every process to exit').catch(() => undefined);
  expect(processesOf(run)).toEqual([]);
}

describe('docproc up stops everything, however it is stopped', () => {
  jest.setTimeout(180_000);

  afterEach(() => {
    // A failed test must not leave its platform running.
    for (const run of launched.splice(0)) {
      for (const row of processesOf(run)) process.kill(Number(row.split(' ')[0]), 'SIGKILL');
    }
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s to the launcher: API first, workers drain, Redis last, nothing left', async (signal) => {
    const run = await launch([process.execPath, CLI, 'up']);
    await untilReady(run);
    expect(processesOf(run).length).toBeGreaterThanOrEqual(8); // launcher, redis guard, redis-server, 5 apps

    process.kill(run.child.pid!, signal);
    expect(await run.exited).toBe(0);
    await expectNoneLeft(run);
    const out = run.output();
    // In order: the orchestrator stopped before any worker began to, Redis after all of them.
    const lines = out.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const lastAt = (pattern: RegExp) => lines.length - 1 - [...lines].reverse().findIndex((line) => pattern.test(line));
    const apiStopped = at(/^orchestrator\s+\|.*"message":"stopped"/);
    expect(apiStopped).toBeGreaterThan(-1);
    expect(at(/^worker-\S+\s+\|.*"message":"shutting down"/)).toBeGreaterThan(apiStopped);
    expect(at(/stopping redis-server/)).toBeGreaterThan(lastAt(/^worker-\S+\s+\|.*"message":"stopped"/));
    expect(out).not.toMatch(/ECONNREFUSED/);
  });

  it('SIGKILL of the launcher: the apps notice, drain and exit, then Redis', async () => {
    const run = await launch([process.execPath, CLI, 'up']);
    await untilReady(run);
    process.kill(run.child.pid!, 'SIGKILL');
    await expectNoneLeft(run);
  });

  it('SIGTERM to `pnpm start` (whose shell dies without passing it on): nothing left', async () => {
    const run = await launch(['pnpm', 'start']);
    await untilReady(run);
    process.kill(run.child.pid!, 'SIGTERM');
    await expectNoneLeft(run);
    expect(run.output()).toContain('the launching process is gone');
  });

  it('a taken port stops the launch with a clear message, a non-zero exit and nothing left', async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((done) => squatter.listen(port, '127.0.0.1', () => done()));
    try {
      const run = await launch([process.execPath, CLI, 'up'], { PORT: String(port) });
      const code = await run.exited;
      expect(code).toBe(1);
      expect(run.output()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.output()).not.toContain('ready: API on');
      await expectNoneLeft(run);
    } finally {
      squatter.close();
    }
  });
});
