import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

/** Whether a Redis server answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Loopback only, AOF fsynced every second (BullMQ's production advice), never evicting keys. */
export function redisServerArgs(url: string, dir: string): string[] {
  const { port } = new URL(url);
  return [
    ...['--port', port || '6379', '--bind', '127.0.0.1', '--dir', dir, '--logfile', join(dir, 'redis-server.log')],
    ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'],
  ];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface RedisServer {
  /** The apps to outlive: should the launcher die, Redis waits until these have exited. */
  watch(pids: number[]): void;
  /** Stops Redis (its AOF keeps the queues) and waits for it. */
  stop(): Promise<void>;
  /** SIGKILL to the guard and Redis. */
  kill(): void;
}

/**
 * Starts a redis-server for `url` (loopback only) with AOF persistence under
 * `dataDir/redis`, through a guard process of its own (see redis-guard.ts) in
 * its own process group, and waits until it answers.
 */
export async function startRedisServer(url: string, dataDir: string): Promise<RedisServer> {
  const { hostname } = new URL(url);
  if (!LOOPBACK.has(hostname)) throw new Error(`will not start Redis for a non-local address (${hostname})`);
  const dir = resolve(join(dataDir, 'redis'));
  mkdirSync(dir, { recursive: true });
  const guard = spawn(process.execPath, [join(__dirname, 'redis-guard.js'), url, dir], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    detached: true,
  });
  let stderr = '';
  guard.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => guard.once('exit', () => done()));
  await new Promise<void>((ready, fail) => {
    guard.once('message', () => ready());
    guard.once('exit', (code) => fail(new Error(`redis-server did not start (code ${code}): ${stderr.trim() || `see ${dir}/redis-server.log`}`)));
  });
  return {
    watch: (pids) => guard.connected && guard.send({ type: 'watch', pids }),
    async stop() {
      if (guard.connected) guard.send({ type: 'stop' });
      await exited;
    },
    kill: () => process.kill(-guard.pid!, 'SIGKILL'), // the guard's group holds redis-server too
  };
}
