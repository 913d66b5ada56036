import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './fixtures';
import { waitFor } from './redis';

export interface TestRedisServer {
  url: string;
  port: number;
  /** A plain connection to it, for the test's own commands (CONFIG SET, INFO). */
  admin: Redis;
  /** SIGTERM (a clean stop, the AOF flushed) and wait for the exit; `start` again on the same port and dir. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A redis-server of a test's own on a free loopback port (no eviction; `args` add to or override that). */
export async function startRedisServer(args: string[] = []): Promise<TestRedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'docproc-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction', ...args],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      async () => {
        const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        const ok = await probe
          .connect()
          .then(() => probe.ping())
          .catch(() => undefined);
        probe.disconnect();
        return ok === 'PONG' ? true : undefined;
      },
      10_000,
      'redis-server',
    );
  };
  await start();
  const admin = new Redis(url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  return {
    url,
    port,
    admin,
    start,
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      await new Promise((resolve) => {
        running.once('exit', resolve);
        running.kill('SIGTERM');
      });
    },
  };
}
