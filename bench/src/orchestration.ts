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
 * It prints the rates (documents/s) and the ratios. Target: docproc / plain >= 0.8.
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

async function plainBullmq(redis: RedisClient, withOptions: boolean, documents = documentCount): Promise<number> {
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
  const started = process.hrtime.bigint();
  for (let i = 0; i < documents; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, documents - i) }, () => {
      const documentId = randomUUID();
      return { name: 'preprocess', data: { documentId }, opts: options(0, documentId) };
    });
    await queues[0]!.addBulk(chunk);
  }
  await waitFor(async () => (finished >= documents ? true : undefined), TIMEOUT_MS, 'plain BullMQ chain');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  await deletePrefix(redis, prefix);
  return documents / seconds;
}

async function docproc(redis: RedisClient, documents = documentCount): Promise<number> {
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
  const started = process.hrtime.bigint();
  await submitBatch(store, queues, batch);
  const record = await waitFor(
    async () => {
      const b = await store.getBatch(batch.id);
      return b?.finishedAt ? b : undefined;
    },
    TIMEOUT_MS,
    'docproc batch',
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (record.completed !== documents) throw new Error(`only ${record.completed} of ${documents} documents completed`);
  await Promise.all(workers.map((w) => w.close()));
  await queues.close();
  await deletePrefix(redis, prefix);
  rmSync(dataDir, { recursive: true, force: true });
  return documents / seconds;
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
  const rows: [plain: number, options: number, platform: number][] = [];
  const rate = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(0));
  for (let round = 1; round <= rounds; round++) {
    const plain = runs('plain') ? await plainBullmq(redis, false) : Number.NaN;
    const options = runs('options') ? await plainBullmq(redis, true) : Number.NaN;
    const platform = runs('docproc') ? await docproc(redis) : Number.NaN;
    rows.push([plain, options, platform]);
    console.log(`round ${round}: plain ${rate(plain)}, plain+options ${rate(options)}, docproc ${rate(platform)} docs/s`);
  }
  const mean = (i: 0 | 1 | 2) => rows.reduce((s, r) => s + r[i], 0) / rows.length;
  const [plain, options, platform] = [mean(0), mean(1), mean(2)];
  console.log('');
  console.log('| runner                         | documents/s | vs plain |');
  console.log('|--------------------------------|------------:|---------:|');
  console.log(`| plain BullMQ                   | ${rate(plain).padStart(11)} |     1.00 |`);
  console.log(`| plain BullMQ + docproc options | ${rate(options).padStart(11)} | ${(options / plain).toFixed(2).padStart(8)} |`);
  console.log(`| docproc                        | ${rate(platform).padStart(11)} | ${(platform / plain).toFixed(2).padStart(8)} |`);
  console.log(
    `ratio docproc / plain BullMQ: ${(platform / plain).toFixed(2)} (target >= 0.80); docproc / plain+options: ${(platform / options).toFixed(2)}`,
  );
  await redis.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
