import { createServer, type Server } from 'node:net';
import { CLI, freePort, launch as launchUp, processesOf, untilReady, whenAllExited, type Launch } from '@docproc/testkit';

const launched: Launch[] = [];

/** `docproc up` (or `pnpm start`) with its own Redis and API ports, one OCR worker. */
async function launch(command: string[], env: Record<string, string> = {}): Promise<Launch> {
  const run = await launchUp(command, { DOCPROC_POOL_MAX: 'ocr=1', ...env });
  launched.push(run);
  return run;
}

async function expectNoneLeft(run: Launch): Promise<void> {
  expect(await whenAllExited(run)).toEqual([]);
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

  it('SIGTERM to `pnpm start`: nothing left', async () => {
    const run = await launch(['pnpm', 'start']);
    await untilReady(run);
    process.kill(run.child.pid!, 'SIGTERM');
    await expectNoneLeft(run);
    expect(run.output()).toMatch(/SIGTERM: stopping the API|the launching process is gone/);
  });

  it('Ctrl-C on `pnpm start` (SIGINT to the whole foreground group): a clean stop, exit 0, no ELIFECYCLE', async () => {
    const run = await launch(['pnpm', 'start']);
    await untilReady(run);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    await expectNoneLeft(run);
    expect(run.output()).toContain('docproc                  | stopped');
    expect(run.output()).not.toMatch(/ELIFECYCLE|killing everything/);
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
