/**
 * pnpm bench:batch [documents] — a large batch through the real platform, next to
 * plain BullMQ, on a Redis server of its own (so its memory and command counts are
 * the batch's alone).
 *
 * docproc: the orchestrator, worker-nlp and worker-validation as `docproc up` runs them
 * (one process each), N small text documents (default 10,000) submitted in one POST
 * with the nlp,validate pipeline. It prints the submit latency (until the 202), the
 * end-to-end time (until the batch ended), Redis calls and CPU per document (INFO
 * commandstats and INFO cpu before and after; the commands most called), Redis memory per 1,000 finished documents while retained and after
 * the batch is removed (DELETE, which is what retention runs), and the orchestrator's
 * RSS before and after.
 *
 * plain BullMQ: the same documents as two plain queues chained by hand (nlp -> validate)
 * in this process, the workers reading each document from disk and doing nothing else:
 * what the queues alone cost; and again with the BullMQ options docproc's tasks carry
 * (priority, stable ids, retries with backoff, retention of finished tasks), so what BullMQ
 * charges for those shows apart from docproc's own cost.
 *
 * Env: BENCH_DOCUMENTS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { taskIdOf, taskPolicy } from '@docproc/batches';
import { taskOptions, toQueuePriority, type StepName } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import { startPlatform } from '@docproc/supervisor';
import { freePort, orchestratorReady, waitFor } from '@docproc/testkit';

const documents = Number(process.argv[2] ?? process.env.BENCH_DOCUMENTS ?? 10_000);

/** What Redis did so far: calls of each command (INFO commandstats; a script's own calls counted too) and its CPU seconds (INFO cpu). */
interface RedisWork {
  calls: Map<string, number>;
  cpuSeconds: number;
}

async function redisWork(redis: Redis): Promise<RedisWork> {
  const [stats, cpu] = [await redis.info('commandstats'), await redis.info('cpu')];
  const calls = new Map([...stats.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
  const used = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)![1]);
  return { calls, cpuSeconds: used('used_cpu_sys') + used('used_cpu_user') };
}

/** The work between two looks: calls in all, the commands most called, Redis CPU. */
function workBetween(before: RedisWork, after: RedisWork) {
  const byCommand = [...after.calls].map(([command, n]) => [command, n - (before.calls.get(command) ?? 0)] as const).filter(([, n]) => n > 0);
  return {
    calls: byCommand.reduce((sum, [, n]) => sum + n, 0),
    top: byCommand.sort((a, b) => b[1] - a[1]).slice(0, 8),
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

function rssOf(pattern: string): number {
  const pid = execFileSync('pgrep', ['-n', '-f', pattern]).toString().trim();
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

const text = (i: number) =>
  `Document ${i}: a short letter about the harbour authority and its quarterly figures, sent on 2025-03-${String((i % 28) + 1).padStart(2, '0')}.`;

async function docproc(redisUrl: string, redis: Redis) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-bench-batch-'));
  const submittedLogs: string[] = [];
  const platform = startPlatform({
    env: {
      ...process.env,
      PORT: String(port),
      REDIS_URL: redisUrl,
      DOCPROC_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      DOCPROC_MAX_BACKLOG: String(documents * 4),
    },
    apps: ['orchestrator', 'worker-nlp', 'worker-validation'],
    onLine: (app, line) => {
      if (/"level":"(error|warn)"/.test(line)) process.stderr.write(`${app} | ${line}\n`);
      if (/batch submitted|batch fanned out/.test(line)) submittedLogs.push(line);
    },
  });
  try {
    await orchestratorReady(base);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // workers up
    const rssBefore = rssOf(`orchestrator/dist/main.js`);
    // The body is made before the clock starts: the figure is the platform's, not this client's.
    const boundary = `----docproc${randomUUID()}`;
    const parts: Buffer[] = [];
    for (let i = 0; i < documents; i++) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="doc-${i}.txt"\r\nContent-Type: text/plain\r\n\r\n${text(i)}\r\n`,
        ),
      );
    }
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="pipeline"\r\n\r\nnlp,validate\r\n--${boundary}--\r\n`));
    const body = Buffer.concat(parts);
    const memoryBefore = await usedMemory(redis);
    const workBefore = await redisWork(redis);
    const started = process.hrtime.bigint();
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
    const submitSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    const ended = await waitFor(
      async () => {
        const status = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as {
          status: string;
          finishedAt: string | null;
          progress: { completed: number };
        };
        return status.finishedAt ? status : undefined;
      },
      60 * 60_000,
      'the batch',
    );
    const endSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (ended.progress.completed !== documents) throw new Error(`only ${ended.progress.completed} of ${documents} completed (${ended.status})`);
    const work = workBetween(workBefore, await redisWork(redis));
    const memoryRetained = (await usedMemory(redis)) - memoryBefore;
    const rssAfter = rssOf(`orchestrator/dist/main.js`);
    const deleted = await fetch(`${base}/v1/jobs/${id}`, { method: 'DELETE' });
    if (deleted.status !== 204) throw new Error(`DELETE answered ${deleted.status}`);
    const memoryAfterExpiry = (await usedMemory(redis)) - memoryBefore;
    for (const line of submittedLogs) console.log(`orchestrator: ${line}`);
    return { submitSeconds, endSeconds, ...work, memoryRetained, memoryAfterExpiry, rssBefore, rssAfter };
  } finally {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const policy = taskPolicy(loadConfig());

async function plain(redisUrl: string, redis: Redis, withOptions: boolean) {
  const options = (step: StepName, i: number) =>
    withOptions ? { ...taskOptions(step, policy), jobId: taskIdOf(`doc-${i}`, step), priority: toQueuePriority(0) } : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'docproc-bench-plain-'));
  for (let i = 0; i < documents; i++) writeFileSync(join(dir, `doc-${i}.txt`), text(i));
  const prefix = `{plain-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = ['nlp', 'validate'].map((name) => new Queue(name, { connection, prefix }));
  let finished = 0;
  const workers = ['nlp', 'validate'].map(
    (name, i) =>
      new Worker(
        name,
        async (job) => {
          readFileSync(join(dir, job.data.file));
          if (i === 0) await queues[1]!.add('validate', job.data, options('validate', job.data.index));
          else finished++;
        },
        { connection, prefix, concurrency: 4 },
      ),
  );
  const memoryBefore = await usedMemory(redis);
  const workBefore = await redisWork(redis);
  const started = process.hrtime.bigint();
  for (let i = 0; i < documents; i += 500) {
    await queues[0]!.addBulk(
      Array.from({ length: Math.min(500, documents - i) }, (_, j) => ({
        name: 'nlp',
        data: { file: `doc-${i + j}.txt`, index: i + j },
        opts: options('nlp', i + j),
      })),
    );
  }
  const submitSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await waitFor(async () => (finished >= documents ? true : undefined), 60 * 60_000, 'plain BullMQ');
  const endSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const work = workBetween(workBefore, await redisWork(redis));
  const memoryRetained = (await usedMemory(redis)) - memoryBefore;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.obliterate({ force: true })));
  const memoryAfterExpiry = (await usedMemory(redis)) - memoryBefore;
  await Promise.all(queues.map((q) => q.close()));
  await connection.quit();
  rmSync(dir, { recursive: true, force: true });
  return { submitSeconds, endSeconds, ...work, memoryRetained, memoryAfterExpiry };
}

async function main(): Promise<void> {
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const redisUrl = `redis://127.0.0.1:${port}`;
  const redis = new Redis(redisUrl);
  redis.on('error', () => undefined); // until the server is up
  try {
    await waitFor(async () => ((await redis.ping().catch(() => '')) === 'PONG' ? true : undefined), 10_000, 'redis-server');
    console.log(`batch benchmark: ${documents} small text documents, pipeline nlp,validate, a redis-server of its own on port ${port}`);
    const ours = await docproc(redisUrl, redis);
    await redis.flushall();
    console.log('docproc:', JSON.stringify(ours));
    const theirs = await plain(redisUrl, redis, false);
    await redis.flushall();
    const theirsWithOptions = await plain(redisUrl, redis, true);
    const perK = (bytes: number) => `${(((bytes / documents) * 1000) / 1024 / 1024).toFixed(2)} MiB`;
    const all = [ours, theirs, theirsWithOptions];
    const row = (name: string, figure: (run: (typeof all)[number]) => string): string[] => [name, ...all.map(figure)];
    const rows: string[][] = [
      row('submit (until 202 / all added)', (r) => `${r.submitSeconds.toFixed(2)} s`),
      row('end to end', (r) => `${r.endSeconds.toFixed(1)} s`),
      row('documents/s end to end', (r) => (documents / r.endSeconds).toFixed(0)),
      row('Redis calls per document', (r) => (r.calls / documents).toFixed(1)),
      row('Redis CPU per document (INFO cpu)', (r) => `${((r.cpuSeconds / documents) * 1e6).toFixed(0)} µs`),
      row('Redis memory per 1,000 finished, retained', (r) => perK(r.memoryRetained)),
      row('Redis memory per 1,000, after removal', (r) => perK(r.memoryAfterExpiry)),
      ['orchestrator RSS before / after', `${(ours.rssBefore / 2 ** 20).toFixed(0)} / ${(ours.rssAfter / 2 ** 20).toFixed(0)} MiB`, '-', '-'],
    ];
    console.log('');
    console.log(`| measure | docproc | plain BullMQ | plain BullMQ + docproc's options |`);
    console.log('|---|---:|---:|---:|');
    for (const cells of rows) console.log(`| ${cells.join(' | ')} |`);
    const perDocument = (top: (readonly [string, number])[]) => top.map(([command, n]) => `${command} ${(n / documents).toFixed(1)}`).join(', ');
    console.log('');
    console.log(`Redis commands per document, most called — docproc: ${perDocument(ours.top)}`);
    console.log(`plain BullMQ: ${perDocument(theirs.top)}`);
    console.log(`plain BullMQ + docproc's options: ${perDocument(theirsWithOptions.top)}`);
  } finally {
    redis.disconnect();
    server.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
