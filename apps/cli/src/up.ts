import { environmentWith, loadConfig, ConfigError } from '@docproc/config';
import { dryRunBackend, localBackend, startAutoscaler, type RunningAutoscaler } from '@docproc/autoscaling';
import { PLATFORM_APPS, startPlatform } from '@docproc/supervisor';
import { STEPS } from '@docproc/catalog';
import { POOL_APPS, poolSettings } from '@docproc/pools';
import { createLogger, createRedis, describeRedis, exitWitness, redisTarget } from '@docproc/runtime';
import { hasRedisServer, redisAnswers, startRedisServer, type RedisServer } from './redis-server';

const COLORS = [36, 33, 35, 32, 34, 31];
const width = Math.max(...PLATFORM_APPS.map((a) => a.length + 2), 'autoscaler'.length) + 2; // worker-ocr.2

function printer(name: string, index: number): (line: string) => void {
  const tag = process.stdout.isTTY ? `\x1b[${COLORS[index % COLORS.length]}m${name.padEnd(width)}\x1b[0m` : name.padEnd(width);
  return (line) => process.stdout.write(`${tag} | ${line}\n`);
}

/** How often the launcher checks that its parent is still there (pnpm, a shell, a terminal). */
const PARENT_CHECK_MS = 500;

/** A SIGINT this soon after the first is the same Ctrl-C delivered twice, not a second one. */
const SAME_CTRL_C_MS = 1000;

/**
 * `docproc up`: Redis (started if needed), the orchestrator and the four workers,
 * until a signal (SIGINT, SIGTERM, SIGHUP) or the launcher's parent goes away;
 * then the API stops first, the workers drain, and Redis (if it started it) goes last.
 */
export async function up(): Promise<void> {
  // A closed terminal makes writes fail: the launcher must still stop everything in order.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  // Lines for a person when one is watching, JSON for a file or a log collector.
  const appEnv = environmentWith(process.stdout.isTTY ? { DOCPROC_LOG_FORMAT: 'pretty' } : {});
  let config;
  try {
    config = loadConfig(appEnv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`docproc up: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const say = printer('docproc', 5);

  let redisServer: RedisServer | undefined;
  // Behind sentinels or a cluster the Redis is the operator's: never started here.
  const operatorsRedis = config.redisSentinels.length > 0 || config.redisClusterNodes.length > 0;
  if (!operatorsRedis && !(await redisAnswers(config.redisUrl))) {
    if (!hasRedisServer()) {
      process.stderr.write(
        `docproc up: no Redis answers at ${config.redisUrl}, and redis-server is not installed.\n` +
          '  Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
          '  or point REDIS_URL at a running Redis 6.2 or later.\n',
      );
      process.exit(69);
    }
    say(`no Redis at ${config.redisUrl}: starting redis-server with AOF persistence in ${config.dataDir}/redis`);
    try {
      redisServer = await startRedisServer(config.redisUrl, config.dataDir);
    } catch (err) {
      process.stderr.write(`docproc up: ${(err as Error).message}\n`);
      process.exit(69);
    }
  }

  if (config.autoscaleBackend === 'kubernetes') {
    process.stderr.write(
      'docproc up: DOCPROC_AUTOSCALE_BACKEND=kubernetes sizes Deployments in a cluster (the autoscaler app there);\n' +
        '  here the backend is local (workers on this machine) or dry-run (decide and report only).\n',
    );
    process.exit(78);
  }
  const pools = poolSettings(config);
  const printers = new Map<string, (line: string) => void>();
  const print = (name: string, index: number, line: string) => {
    if (!printers.has(name)) printers.set(name, printer(name, index));
    printers.get(name)!(line);
  };
  // A worker seen to exit has its tasks released at once, with the cause its exit shows.
  const witness = exitWitness(
    config,
    createLogger('docproc', config.logLevel, config.logFormat, (line) => say(line)),
  );
  const platform = startPlatform({
    env: appEnv,
    // The pools start at their minimum; the autoscaler sizes them from there.
    instances: Object.fromEntries(STEPS.map((pool) => [POOL_APPS[pool], pools[pool].min])),
    // A worker scaled down finishes its task first: as long as a task may run, and its lock.
    drainGraceMs: Object.fromEntries(STEPS.map((pool) => [POOL_APPS[pool], pools[pool].taskTimeoutMs + config.lockMs + 5000])),
    onLine: (app, line, name) => print(name, PLATFORM_APPS.indexOf(app), line),
    onExit: (_app, code, signal, name, restartInMs) =>
      say(`${name} exited (${signal ?? `code ${code}`}); starting it again in ${restartInMs / 1000} s`),
    onProcessExit: (app, pid, code, signal) => void (app !== 'orchestrator' && witness.exited(pid, code, signal)),
  });
  say(
    `starting the orchestrator and the worker pools (min..max): ${STEPS.map((pool) => `${pool} ${pools[pool].min}..${pools[pool].max}`).join(', ')}; ` +
      `autoscaler ${config.autoscaleBackend}, every ${config.autoscaleIntervalSeconds} s; ${describeRedis(redisTarget(config))}${redisServer ? ' (started here)' : ''}`,
  );
  let autoscaler: RunningAutoscaler | undefined;

  let stopping = false;
  let stoppingAt = 0;
  const stop = async (reason: string, exitCode = 0) => {
    if (stopping) {
      // Only a second Ctrl-C means "now": a terminal that closes while we drain sends
      // SIGHUP, and a supervisor may repeat SIGTERM; neither should cut the drain short.
      if (reason !== 'SIGINT') return say(`${reason}: already stopping`);
      // One Ctrl-C can arrive twice: from the terminal, and passed on by `pnpm start`.
      if (Date.now() - stoppingAt < SAME_CTRL_C_MS) return;
      say(`${reason} again: killing everything`);
      platform.kill();
      redisServer?.kill();
      process.exit(130);
    }
    stopping = true;
    stoppingAt = Date.now();
    say(`${reason}: stopping the API, then the workers (they finish their current tasks)`);
    await autoscaler?.stop();
    await platform.stop();
    await witness.close();
    if (redisServer) {
      say('stopping redis-server (its AOF keeps the queues)');
      await redisServer.stop();
    }
    say('stopped');
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  // pnpm passes SIGTERM to its shell, which dies without passing it on: the launcher sees
  // only that its parent changed. Redis, meanwhile, learns which apps it must outlive.
  const parent = process.ppid;
  let watched = '';
  setInterval(() => {
    if (process.ppid !== parent && !stopping) void stop('the launching process is gone');
    const pids = platform.pids();
    if (redisServer && pids.join() !== watched) redisServer.watch(pids);
    watched = pids.join();
  }, PARENT_CHECK_MS).unref();

  try {
    await platform.ready;
    if (!stopping) {
      const logger = createLogger('autoscaler', config.logLevel, config.logFormat, (line) => print('autoscaler', PLATFORM_APPS.length, line));
      const backend =
        config.autoscaleBackend === 'local'
          ? localBackend(platform)
          : dryRunBackend(createRedis(redisTarget(config), 'worker', logger), config.keyPrefix, config.heartbeatMs);
      autoscaler = startAutoscaler(config, backend, logger);
    }
    say(`ready: API on http://${config.host}:${config.port} — Ctrl-C stops everything`);
  } catch (err) {
    process.stderr.write(`docproc up: ${(err as Error).message}\n`);
    await stop('launch failed', 1);
  }
}
