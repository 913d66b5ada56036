import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stopChild } from './child';
import { waitFor } from './redis';

export interface SentinelGroup {
  /** The name the sentinels know the master by. */
  master: string;
  /** "127.0.0.1:port" of each sentinel (DOCPROC_REDIS_SENTINELS). */
  sentinels: string[];
  /** The port of the master as started (after a failover, the replica's is the master). */
  masterPort: number;
  replicaPort: number;
  /** SIGKILL to the Redis that is master now; returns its port. */
  killMaster(): Promise<number>;
  /** Starts Redis again on `port` as a replica of the master now (a failed master coming back). */
  restartAsReplica(port: number): Promise<void>;
  /** The master's port as the sentinels see it now. */
  currentMasterPort(): Promise<number>;
  stop(): Promise<void>;
}

export const hasRedisSentinel = () => spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * A master, one replica and three sentinels, each a real process of Debian's redis-server /
 * redis-sentinel on loopback ports from `basePort` (five in a row), as production runs
 * Sentinel: quorum 2, a master down after 1 s, failover within 5 s.
 */
export async function startSentinelGroup(basePort: number): Promise<SentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-sentinel-'));
  const master = 'docproc';
  const processes = new Map<number, ChildProcess>();
  const redisServer = (port: number, replicaOf?: number) => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--dbfilename',
      `dump-${port}.rdb`,
    ];
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    processes.set(port, spawn('redis-server', args, { stdio: 'ignore' }));
  };
  const [masterPort, replicaPort] = [basePort, basePort + 1];
  redisServer(masterPort);
  redisServer(replicaPort, masterPort);
  const sentinelPorts = [basePort + 2, basePort + 3, basePort + 4];
  for (const port of sentinelPorts) {
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${master} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${master} 1000`,
        `sentinel failover-timeout ${master} 5000`,
        `sentinel parallel-syncs ${master} 1`,
        '',
      ].join('\n'),
    );
    processes.set(port, spawn('redis-sentinel', [file], { stdio: 'ignore' }));
  }
  const sentinel = new Redis({ port: sentinelPorts[0], host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: null });
  sentinel.on('error', () => undefined);
  const currentMasterPort = async () => Number(((await sentinel.call('SENTINEL', 'get-master-addr-by-name', master)) as string[])[1]);
  // Ready when the first sentinel knows the replica and the two other sentinels.
  await waitFor(
    async () => {
      try {
        const replicas = (await sentinel.call('SENTINEL', 'replicas', master)) as unknown[];
        const others = (await sentinel.call('SENTINEL', 'sentinels', master)) as unknown[];
        return replicas.length >= 1 && others.length >= 2 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
    'the sentinels to see the replica and each other',
  );
  return {
    master,
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`),
    masterPort,
    replicaPort,
    currentMasterPort,
    async killMaster() {
      const port = await currentMasterPort();
      await stopChild(processes.get(port), 'SIGKILL');
      return port;
    },
    async restartAsReplica(port) {
      redisServer(port, await currentMasterPort());
    },
    async stop() {
      sentinel.disconnect();
      await Promise.all([...processes.values()].map((child) => stopChild(child, 'SIGTERM')));
    },
  };
}
