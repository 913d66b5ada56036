import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { stopChild } from './child';
import { waitFor } from './redis';

export interface TestRedisCluster {
  /** "127.0.0.1:port" of every node (DOCPROC_REDIS_CLUSTER_NODES). */
  nodes: string[];
  /** The port of the master that holds `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILL to the master that holds `key`'s slot; returns its port. */
  killMasterOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Three masters with a replica each, every one a real process of Debian's redis-server on
 * loopback ports from `basePort` (six in a row), made a cluster by `redis-cli --cluster create`;
 * a master is taken for failed after 1 s (cluster-node-timeout) and its replica promoted.
 */
export async function startRedisCluster(basePort: number): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-cluster-'));
  const ports = Array.from({ length: 6 }, (_, i) => basePort + i);
  const processes = new Map<number, ChildProcess>();
  for (const port of ports) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000');
    processes.set(port, spawn('redis-server', args, { stdio: 'ignore' }));
  }
  const admin = (port: number) => {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    return redis;
  };
  const ask = async <T>(port: number, ...command: string[]): Promise<T | undefined> => {
    const redis = admin(port);
    try {
      await redis.connect();
      return (await redis.call(command[0]!, ...command.slice(1))) as T;
    } catch {
      return undefined;
    } finally {
      redis.disconnect();
    }
  };
  const nodes = ports.map((port) => `127.0.0.1:${port}`);
  try {
    for (const port of ports) {
      await waitFor(
        async () => {
          const node = processes.get(port)!;
          // A node that could not bind its port (or its bus port, + 10000) is gone: say so now.
          if (node.exitCode !== null) throw new Error(`redis-server on ${port} exited (${node.exitCode}): its port or ${port + 10_000} is taken`);
          return (await ask(port, 'PING')) === 'PONG' ? true : undefined;
        },
        10_000,
        `redis-server on ${port}`,
      );
    }

    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    // Ready when every node says the cluster is ok and each master has its replica.
    await waitFor(
      async () => {
        for (const port of ports) {
          const info = await ask<string>(port, 'CLUSTER', 'INFO');
          if (!info?.includes('cluster_state:ok')) return undefined;
        }
        const roles = await Promise.all(ports.map((port) => ask<unknown[]>(port, 'ROLE')));
        const masters = roles.filter((role) => role?.[0] === 'master') as [string, number, unknown[]][];
        return masters.length === 3 && masters.every((role) => role[2].length === 1) ? true : undefined;
      },
      30_000,
      'the cluster to be ok, each master with its replica',
    );
  } catch (err) {
    // Nothing left behind by a start that failed: the caller has no handle to stop.
    for (const node of processes.values()) node.kill('SIGKILL');
    throw err;
  }

  const masterOf = async (key: string): Promise<number> => {
    const slot = calculateSlot(key);
    for (const port of ports) {
      if (processes.get(port)?.exitCode !== null || processes.get(port)?.signalCode !== null) continue;
      const ranges = await ask<[number, number, [string, number]][]>(port, 'CLUSTER', 'SLOTS');
      const range = ranges?.find(([from, to]) => slot >= from && slot <= to);
      if (range) return Number(range[2][1]);
    }
    throw new Error(`no node answers for slot ${slot}`);
  };
  return {
    nodes,
    masterOf,
    async killMasterOf(key) {
      const port = await masterOf(key);
      await stopChild(processes.get(port), 'SIGKILL');
      return port;
    },
    async stop() {
      await Promise.all([...processes.values()].map((child) => stopChild(child, 'SIGTERM')));
    },
  };
}
