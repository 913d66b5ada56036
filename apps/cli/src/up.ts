import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { loadConfig, ConfigError } from '@docproc/config';
import { PLATFORM_APPS, startPlatform } from './platform';
import { hasRedisServer, redisAnswers, startRedisServer } from './redis-server';

const COLORS = [36, 33, 35, 32, 34, 31];
const width = Math.max(...PLATFORM_APPS.map((a) => a.length), 'redis'.length) + 2;

function printer(name: string, index: number): (line: string) => void {
  const tag = process.stdout.isTTY ? `\x1b[${COLORS[index % COLORS.length]}m${name.padEnd(width)}\x1b[0m` : name.padEnd(width);
  return (line) => process.stdout.write(`${tag} | ${line}\n`);
}

/** `docproc up`: Redis (started if needed), the orchestrator and the four workers, until Ctrl-C. */
export async function up(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`docproc up: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const say = printer('docproc', 5);

  let redisServer: ChildProcess | undefined;
  if (!(await redisAnswers(config.redisUrl))) {
    if (!hasRedisServer()) {
      process.stderr.write(
        `docproc up: no Redis answers at ${config.redisUrl}, and redis-server is not installed.\n` +
          '  Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
          '  or point REDIS_URL at a running Redis 6.2 or later.\n',
      );
      process.exit(69);
    }
    say(`no Redis at ${config.redisUrl}: starting redis-server with AOF persistence in ${config.dataDir}/redis`);
    redisServer = await startRedisServer(config.redisUrl, config.dataDir);
  }

  const ocrWorkers = config.ocrWorkers ?? availableParallelism();
  const printers = new Map<string, (line: string) => void>();
  const platform = startPlatform({
    instances: { 'worker-ocr': ocrWorkers },
    onLine: (app, line, name) => {
      if (!printers.has(name)) printers.set(name, printer(name, PLATFORM_APPS.indexOf(app)));
      printers.get(name)!(line);
    },
    onExit: (_app, code, signal, name) => say(`${name} exited (${signal ?? `code ${code}`}); restarting it`),
  });
  say(`started ${PLATFORM_APPS.join(', ')} (${ocrWorkers} OCR processes); API on http://${config.host}:${config.port} — Ctrl-C stops everything`);

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      say('second signal: killing everything');
      process.exit(130);
    }
    stopping = true;
    say(`${signal}: stopping the apps`);
    await platform.stop();
    if (redisServer) {
      say('stopping redis-server (its AOF keeps the queues)');
      await new Promise<void>((done) => {
        redisServer!.once('exit', () => done());
        redisServer!.kill('SIGTERM');
      });
    }
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
