/**
 * pnpm bench:fair-share [pages] — one tenant's one-page job while another's big batch runs.
 *
 * The platform's step workers (BullMQ, the task ledger, the batch records: all real, on
 * real Redis) run a four-step chain whose steps wait a fixed time instead of working
 * (preprocess 10 ms, OCR 40 ms, NLP 10 ms, validation 5 ms; two tasks at once per step,
 * as on two cores), so the figures are the scheduling's alone. Runs, each on a fresh prefix:
 *   B alone:            tenant B's one-page job;
 *   A alone:            tenant A's batch of N pages (default 2,000): its throughput;
 *   A, then B:          B submitted 3 s into A's batch: B's time, and A's throughput;
 *   A, then B as A:     the same with B's job submitted by tenant A (one tenant: no fair
 *                       share between them) — what B waits without it.
 * Targets: B beside A within 2x B alone + one task (40 ms); A's throughput at most 5 % lower.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchStore, StepQueues, submitBatch, taskPolicy, type NewBatch } from '@docproc/batches';
import { STEPS, type StepName } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import { createLogger, createRedis, startStepWorker, stepWorkerSettings, type StepProcessor } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from '@docproc/testkit';
import { NO_OP_RESULTS } from './no-op-results';

const pages = Number(process.argv[2] ?? process.env.BENCH_PAGES ?? 2000);
const STEP_MS: Record<StepName, number> = { preprocess: 10, ocr: 40, nlp: 10, validate: 5 };
const LONGEST_TASK_MS = Math.max(...Object.values(STEP_MS));
const B_AFTER_MS = 3000;
const config = loadConfig();
const redis = createRedis(TEST_REDIS_URL, 'worker');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function batchOf(tenant: string, count: number): NewBatch {
  return {
    id: randomUUID(),
    tenant,
    priority: 0,
    pipeline: [...STEPS],
    options: {},
    documents: Array.from({ length: count }, (_, i) => ({ id: randomUUID(), name: `page-${i}.png`, blobKey: `bench/${i}`, size: 0 })),
  };
}

/** The platform on a prefix of its own: the step workers, and a way to submit and time batches. */
async function withPlatform<T>(run: (submit: (batch: NewBatch) => Promise<() => Promise<number>>) => Promise<T>): Promise<T> {
  const prefix = testPrefix('bench-fair');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-bench-'));
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const logger = createLogger('bench', 'error');
  const waiting =
    <S extends StepName>(step: S): StepProcessor<S> =>
    async () => {
      await sleep(STEP_MS[step]);
      return NO_OP_RESULTS[step];
    };
  const workers = STEPS.map((step) =>
    startStepWorker({
      step,
      processor: waiting(step) as StepProcessor<typeof step>,
      connection: redis,
      prefix,
      blobs: new LocalBlobStore(dataDir),
      logger,
      ...stepWorkerSettings(config, step),
      concurrency: 2,
    }),
  );
  /** Submits; the returned function waits for the batch's end and gives its seconds from submit. */
  const submit = async (batch: NewBatch) => {
    const started = Date.now();
    await submitBatch(store, queues, batch);
    return async () => {
      const ended = await waitFor(async () => ((await store.getBatch(batch.id))?.finishedAt ? Date.now() : undefined), 60 * 60_000, 'the batch');
      return (ended - started) / 1000;
    };
  };
  try {
    return await run(submit);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queues.close();
    await deletePrefix(redis, prefix);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`fair-share benchmark: tenant A ${pages} pages, tenant B 1 page; steps ${JSON.stringify(STEP_MS)} ms, 2 at once per step`);
  await withPlatform(async (submit) => (await submit(batchOf('b', 1)))()); // warm-up, unmeasured
  const bAlone = await withPlatform(async (submit) => (await submit(batchOf('b', 1)))());
  const aAlone = await withPlatform(async (submit) => (await submit(batchOf('a', pages)))());
  const beside = async (bTenant: string) =>
    withPlatform(async (submit) => {
      const a = await submit(batchOf('a', pages));
      await sleep(B_AFTER_MS);
      const b = await (await submit(batchOf(bTenant, 1)))();
      return { b, a: await a() };
    });
  const fair = await beside('b');
  const unfair = await beside('a');

  const rate = (seconds: number) => pages / seconds;
  const target = 2 * bAlone + LONGEST_TASK_MS / 1000;
  console.log('');
  console.log("| run | B's one page (s) | A's pages/s | A vs alone |");
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| B alone | ${bAlone.toFixed(3)} | — | — |`);
  console.log(`| A alone | — | ${rate(aAlone).toFixed(1)} | 1.00 |`);
  console.log(`| A, then B (two tenants: fair share) | ${fair.b.toFixed(3)} | ${rate(fair.a).toFixed(1)} | ${(aAlone / fair.a).toFixed(3)} |`);
  console.log(
    `| A, then B submitted by A (one tenant) | ${unfair.b.toFixed(3)} | ${rate(unfair.a).toFixed(1)} | ${(aAlone / unfair.a).toFixed(3)} |`,
  );
  console.log('');
  console.log(
    `B beside A: ${fair.b.toFixed(3)} s against a target of ${target.toFixed(3)} s (2x alone + one ${LONGEST_TASK_MS} ms task): ${fair.b <= target ? 'met' : 'NOT met'}; ` +
      `A's throughput ${((aAlone / fair.a - 1) * 100).toFixed(1)} % from alone (target: at most 5 % lower): ${aAlone / fair.a >= 0.95 ? 'met' : 'NOT met'}`,
  );
  await redis.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
