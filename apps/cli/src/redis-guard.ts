/**
 * The process `docproc up` starts Redis through. It runs `redis-server` and
 * stops it when told to, or — when the launcher dies without telling it (even
 * by SIGKILL) — once the apps it was told to watch have drained and exited, so
 * Redis goes last and no process is left behind.
 *
 * argv: <redis url> <data dir>. Messages in: { type: 'watch', pids }, { type: 'stop' }.
 * Message out: { type: 'ready' } once Redis answers.
 */
import { spawn } from 'node:child_process';
import { redisAnswers, redisServerArgs } from './redis-server';

const [url, dir] = process.argv.slice(2) as [string, string];
const RUN_DOWN_LIMIT_MS = 60_000;

let watched: number[] = [];
let stopping = false;
const redis = spawn('redis-server', redisServerArgs(url, dir), { stdio: 'ignore' });
redis.on('exit', (code, signal) => {
  if (!stopping) process.stderr.write(`redis-server exited (${signal ?? `code ${code}`}); see ${dir}/redis-server.log\n`);
  process.exit(stopping ? 0 : 1);
});

const stopRedis = () => {
  stopping = true;
  redis.kill('SIGTERM'); // Redis flushes its AOF and exits; the 'exit' handler ends this process
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

process.on('message', (message: { type?: string; pids?: number[] }) => {
  if (message.type === 'watch') watched = message.pids ?? [];
  if (message.type === 'stop') stopRedis();
});
process.on('disconnect', () => {
  const since = Date.now();
  const check = setInterval(() => {
    if (watched.some(alive) && Date.now() - since < RUN_DOWN_LIMIT_MS) return;
    clearInterval(check);
    stopRedis();
  }, 200);
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stopRedis);

void (async () => {
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url, 500)) return process.send?.({ type: 'ready' });
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write('redis-server did not answer within 5 s\n');
  stopRedis();
})();
