/**
 * pnpm bench:orchestration [documents] — the cost of docproc's orchestration.
 *
 * The same N documents go through a four-step chain twice, on the same Redis,
 * with step functions that do nothing:
 *   baseline: four plain BullMQ queues, each worker adding the next step's job by hand;
 *   docproc:  the orchestrator's batch records and enqueueBatch, and the platform's
 *             step-worker runtime (payload parsing, cancellation check, records,
 *             results in the blob store, next-step queueing, heartbeats).
 * It prints both rates (documents/s) and their ratio. Target: ratio >= 0.8.
 *
 * Env: BENCH_CONCURRENCY (jobs per worker at once, default 50), BENCH_ROUNDS (default 1).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BatchStore, StepQueues, enqueueBatch, type NewBatch } from '@docproc/batches';
import { STEPS, type StepName, type StepResults } from '@docproc/catalog';
import { createLogger, createRedis, startStepWorker, type StepProcessor } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from '@docproc/testkit';

const documents = Number(process.argv[2] ?? process.env.BENCH_DOCUMENTS ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const TIMEOUT_MS = 30 * 60_000;

const NO_OP_RESULTS: StepResults = {
  preprocess: { mediaType: 'text/plain', pages: [] },
  ocr: { text: '', confidence: 0, engine: 'none', languages: [], pages: [] },
  nlp: { language: 'und', wordCount: 0, tokens: [], keywords: [], entities: [] },
  validate: { status: 'passed', reasons: [] },
};

async function plainBullmq(redis: Redis): Promise<number> {
  const prefix = testPrefix('bench-plain');
  const queues = STEPS.map((step) => new Queue(step, { connection: redis, prefix }));
  let finished = 0;
  const workers = STEPS.map(
    (step, i) =>
      new Worker(
        step,
        async (job) => {
          const next = queues[i + 1];
          if (next) await next.add(STEPS[i + 1]!, job.data);
          else finished++;
        },
        { connection: redis, prefix, concurrency },
      ),
  );
  const started = process.hrtime.bigint();
  for (let i = 0; i < documents; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, documents - i) }, (_, j) => ({ name: 'preprocess', data: { documentId: `d${i + j}` } }));
    await queues[0]!.addBulk(chunk);
  }
  await waitFor(async () => (finished >= documents ? true : undefined), TIMEOUT_MS, 'plain BullMQ chain');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  await deletePrefix(redis, prefix);
  return documents / seconds;
}

async function docproc(redis: Redis): Promise<number> {
  const prefix = testPrefix('bench-docproc');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-bench-'));
  const blobs = new LocalBlobStore(dataDir);
  const logger = createLogger('bench', 'error');
  const store = new BatchStore(redis, prefix);
  const queues = new StepQueues(redis, prefix);
  const noOp = <S extends StepName>(step: S): StepProcessor<S> => async () => NO_OP_RESULTS[step];
  const workers = STEPS.map((step) =>
    startStepWorker({ step, processor: noOp(step) as StepProcessor<typeof step>, connection: redis, prefix, blobs, logger, concurrency }),
  );
  const batch: NewBatch = {
    id: randomUUID(),
    priority: 0,
    pipeline: [...STEPS],
    options: {},
    documents: Array.from({ length: documents }, (_, i) => ({ id: randomUUID(), name: `doc-${i}.png`, blobKey: `bench/${i}`, size: 0 })),
  };
  const started = process.hrtime.bigint();
  await store.createBatch(batch);
  await enqueueBatch(queues, batch);
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
  console.log(`orchestration benchmark: ${documents} documents x 4 steps, concurrency ${concurrency} per step, ${rounds} round(s), Redis ${TEST_REDIS_URL}`);
  const rows: [string, number, number][] = [];
  for (let round = 1; round <= rounds; round++) {
    const plain = await plainBullmq(redis);
    const platform = await docproc(redis);
    rows.push([`round ${round}`, plain, platform]);
    console.log(`round ${round}: plain BullMQ ${plain.toFixed(0)} docs/s, docproc ${platform.toFixed(0)} docs/s, ratio ${(platform / plain).toFixed(2)}`);
  }
  const mean = (i: 1 | 2) => rows.reduce((s, r) => s + r[i], 0) / rows.length;
  console.log('');
  console.log('| runner        | documents/s |');
  console.log('|---------------|------------:|');
  console.log(`| plain BullMQ  | ${mean(1).toFixed(0).padStart(11)} |`);
  console.log(`| docproc       | ${mean(2).toFixed(0).padStart(11)} |`);
  console.log(`ratio docproc / plain BullMQ: ${(mean(2) / mean(1)).toFixed(2)} (target >= 0.80)`);
  await redis.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
