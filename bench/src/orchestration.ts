/**
 * pnpm bench:orchestration [documents] — the cost of docproc's orchestration.
 *
 * The same N documents go through a four-step chain three times, on the same
 * Redis, with step functions that do nothing:
 *   plain:         four plain BullMQ queues, each worker adding the next step's job by hand;
 *   plain+options: the same, with the BullMQ job options docproc's steps use (priority,
 *                  stable job ids, retries with backoff, retention of finished jobs), so
 *                  that what BullMQ charges for those features shows apart from docproc's own cost;
 *   docproc:       the orchestrator's batch records and enqueueBatch, and the platform's
 *                  step-worker runtime (payload parsing, records, results inline or in the
 *                  blob store, next-step queueing, heartbeats).
 * It prints the rates (documents/s), the ratios, and Redis's CPU per document of each side
 * (INFO cpu before and after: Redis serves only this benchmark while it runs). Target: docproc / plain >= 0.8.
 *
 * Env: BENCH_CONCURRENCY (jobs per worker at once, default 50), BENCH_ROUNDS (default 1),
 * BENCH_ONLY (plain | options | docproc: one side alone, for profiling).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { BatchStore, StepQueues, taskPolicy, taskIdOf, submitBatch, type NewBatch } from '@docproc/batches';
import { loadConfig } from '@docproc/config';
import { STEPS, taskOptions, toQueuePriority, type StepName } from '@docproc/catalog';
import { createLogger, createRedis, startStepWorker, stepWorkerSettings, type RedisClient, type StepProcessor } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from '@docproc/testkit';
import { NO_OP_RESULTS } from './no-op-results';

const documentCount = Number(process.argv[2] ?? process.env.BENCH_DOCUMENTS ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const only = process.env.BENCH_ONLY;
const runs = (side: 'plain' | 'options' | 'docproc') => only === undefined || only === side;
const TIMEOUT_MS = 30 * 60_000;
const config = loadConfig();
const policy = taskPolicy(config);

/** What a side's run measured: documents/s, and Redis's and this process's CPU µs per document. */
interface Figures {
  rate: number;
  redisMicros: number;
  nodeMicros: number;
}

async function redisCpuSeconds(redis: RedisClient): Promise<number> {
  const cpu = await redis.info('cpu');
  const used = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)![1]);
  return used('used_cpu_sys') + used('used_cpu_user');
}

/** Runs one side, timed from its first add to its last document's end, with Redis's CPU over the same span. */
async function measured(redis: RedisClient, documents: number, run: (start: () => Promise<void>) => Promise<void>): Promise<Figures> {
  let started = 0n;
  let cpuBefore = 0;
  let nodeBefore = process.cpuUsage();
  await run(async () => {
    cpuBefore = await redisCpuSeconds(redis);
    nodeBefore = process.cpuUsage();
    started = process.hrtime.bigint();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = (await redisCpuSeconds(redis)) - cpuBefore;
  const node = process.cpuUsage(nodeBefore);
  return { rate: documents / seconds, redisMicros: (cpu / documents) * 1e6, nodeMicros: (node.user + node.system) / documents };
}

async function plainBullmq(redis: RedisClient, withOptions: boolean, documents = documentCount): Promise<Figures> {
  const prefix = testPrefix('bench-plain');
  const options = (i: number, documentId: string): JobsOptions | undefined =>
    withOptions ? { ...taskOptions(STEPS[i]!, policy), jobId: taskIdOf(documentId, STEPS[i]!), priority: toQueuePriority(0) } : undefined;
  const queues = STEPS.map((step) => new Queue(step, { connection: redis, prefix }));
  let finished = 0;
  const workers = STEPS.map(
    (step, i) =>
      new Worker(
        step,
        async (job) => {
          const next = queues[i + 1];
          if (next) await next.add(STEPS[i + 1]!, job.data, options(i + 1, job.data.documentId));
          else finished++;
        },
        { connection: redis, prefix, concurrency },
      ),
  );
  const figures = await measured(redis, documents, async (start) => {
    await start();
    for (let i = 0; i < documents; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, documents - i) }, () => {
        const documentId = randomUUID();
        return { name: 'preprocess', data: { documentId }, opts: options(0, documentId) };
      });
      await queues[0]!.addBulk(chunk);
    }
    await waitFor(async () => (finished >= documents ? true : undefined), TIMEOUT_MS, 'plain BullMQ chain');
  });
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  await deletePrefix(redis, prefix);
  return figures;
}

async function docproc(redis: RedisClient, documents = documentCount): Promise<Figures> {
  const prefix = testPrefix('bench-docproc');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-bench-'));
  const blobs = new LocalBlobStore(dataDir);
  const logger = createLogger('bench', 'error');
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(redis, prefix, policy);
  const noOp =
    <S extends StepName>(step: S): StepProcessor<S> =>
    async () =>
      NO_OP_RESULTS[step];
  const workers = STEPS.map((step) =>
    startStepWorker({
      step,
      processor: noOp(step) as StepProcessor<typeof step>,
      connection: redis,
      prefix,
      blobs,
      logger,
      concurrency,
      ...stepWorkerSettings(config, step),
    }),
  );
  const batch: NewBatch = {
    id: randomUUID(),
    priority: 0,
    pipeline: [...STEPS],
    options: {},
    documents: Array.from({ length: documents }, (_, i) => ({ id: randomUUID(), name: `doc-${i}.png`, blobKey: `bench/${i}`, size: 0 })),
  };
  const figures = await measured(redis, documents, async (start) => {
    await start();
    await submitBatch(store, queues, batch);
    const record = await waitFor(
      async () => {
        const b = await store.getBatch(batch.id);
        return b?.finishedAt ? b : undefined;
      },
      TIMEOUT_MS,
      'docproc batch',
    );
    if (record.completed !== documents) throw new Error(`only ${record.completed} of ${documents} documents completed`);
  });
  await Promise.all(workers.map((w) => w.close()));
  await queues.close();
  await deletePrefix(redis, prefix);
  rmSync(dataDir, { recursive: true, force: true });
  return figures;
}

async function main(): Promise<void> {
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  console.log(
    `orchestration benchmark: ${documentCount} documents x 4 steps, concurrency ${concurrency} per step, ${rounds} round(s), Redis ${TEST_REDIS_URL}`,
  );
  // All sides share BullMQ's and ioredis's code: a short unmeasured round of each first,
  // so that no side pays for the JIT compiling it.
  if (runs('plain')) await plainBullmq(redis, false, 500);
  if (runs('options')) await plainBullmq(redis, true, 500);
  if (runs('docproc')) await docproc(redis, 500);
  const none: Figures = { rate: Number.NaN, redisMicros: Number.NaN, nodeMicros: Number.NaN };
  const rows: [plain: Figures, options: Figures, platform: Figures][] = [];
  const rate = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(0));
  for (let round = 1; round <= rounds; round++) {
    const plain = runs('plain') ? await plainBullmq(redis, false) : none;
    const options = runs('options') ? await plainBullmq(redis, true) : none;
    const platform = runs('docproc') ? await docproc(redis) : none;
    rows.push([plain, options, platform]);
    console.log(`round ${round}: plain ${rate(plain.rate)}, plain+options ${rate(options.rate)}, docproc ${rate(platform.rate)} docs/s`);
  }
  const mean = (i: 0 | 1 | 2, figure: keyof Figures) => rows.reduce((s, r) => s + r[i][figure], 0) / rows.length;
  const [plain, options, platform] = [mean(0, 'rate'), mean(1, 'rate'), mean(2, 'rate')];
  const micros = (i: 0 | 1 | 2) => `${rate(mean(i, 'redisMicros')).padStart(21)} | ${rate(mean(i, 'nodeMicros')).padStart(20)}`;
  console.log('');
  console.log('| runner                         | documents/s | vs plain | Redis CPU µs/document | Node CPU µs/document |');
  console.log('|--------------------------------|------------:|---------:|----------------------:|---------------------:|');
  console.log(`| plain BullMQ                   | ${rate(plain).padStart(11)} |     1.00 | ${micros(0)} |`);
  console.log(`| plain BullMQ + docproc options | ${rate(options).padStart(11)} | ${(options / plain).toFixed(2).padStart(8)} | ${micros(1)} |`);
  console.log(`| docproc                        | ${rate(platform).padStart(11)} | ${(platform / plain).toFixed(2).padStart(8)} | ${micros(2)} |`);
  console.log(
    `ratio docproc / plain BullMQ: ${(platform / plain).toFixed(2)}; docproc / plain+options: ${(platform / options).toFixed(2)} (target >= 0.80)`,
  );
  await redis.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
