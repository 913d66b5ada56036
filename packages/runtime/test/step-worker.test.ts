import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowProducer, Queue } from 'bullmq';
import { BatchStore, enqueueBatch, type NewBatch } from '@docproc/batches';
import { CorruptDocumentError, STEPS, type StepName, type StepResults } from '@docproc/catalog';
import { createLogger, createRedis, startStepWorker, type StepProcessor, type StepWorker } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from '@docproc/testkit';

const logger = createLogger('test', 'error');

/** Processors that record what they saw, and fail where a test tells them to. */
function fakeProcessors(behaviour: { failOn?: Record<string, Error>; flakyOnce?: Set<string>; seen: string[] }) {
  const run =
    <S extends StepName>(step: S, result: (ctx: Parameters<StepProcessor<S>>[0]) => StepResults[S]): StepProcessor<S> =>
    async (ctx) => {
      behaviour.seen.push(`${ctx.payload.name}:${step}`);
      const failure = behaviour.failOn?.[`${ctx.payload.name}:${step}`];
      if (failure) throw failure;
      if (behaviour.flakyOnce?.delete(`${ctx.payload.name}:${step}`)) throw new Error('ECONNRESET (flaky)');
      return result(ctx);
    };
  return {
    preprocess: run('preprocess', () => ({ mediaType: 'text/plain', pages: [] })),
    ocr: run('ocr', (ctx) => ({
      text: `text of ${ctx.payload.name}, after ${ctx.previous.preprocess?.mediaType}`,
      confidence: 90,
      engine: 'fake',
      languages: ['eng'],
      pages: [],
    })),
    nlp: run('nlp', (ctx) => ({ language: 'eng', wordCount: ctx.previous.ocr!.text.length, tokens: [], keywords: [], entities: [] })),
    validate: run('validate', () => ({ status: 'passed', reasons: [] })),
  } satisfies { [S in StepName]: StepProcessor<S> };
}

describe('step workers on a real BullMQ flow', () => {
  const prefix = testPrefix('runtime');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  const blobs = new LocalBlobStore(mkdtempSync(join(tmpdir(), 'docproc-rt-')));
  const store = new BatchStore(connection, prefix);
  const flows = new FlowProducer({ connection, prefix });
  let workers: StepWorker[] = [];

  function start(processors: ReturnType<typeof fakeProcessors>) {
    workers = STEPS.map((step) =>
      startStepWorker({ step, processor: processors[step] as StepProcessor<typeof step>, connection, prefix, blobs, logger, concurrency: 2, heartbeatMs: 200 }),
    );
  }

  async function submit(id: string, names: string[]): Promise<NewBatch> {
    const batch: NewBatch = {
      id,
      priority: 0,
      pipeline: [...STEPS],
      options: {},
      documents: names.map((name, i) => ({ id: `${id}-${i}`, name, blobKey: `batches/${id}/${i}`, size: 1 })),
    };
    await store.createBatch(batch);
    await enqueueBatch(flows, batch);
    return batch;
  }

  const finished = (id: string) =>
    waitFor(async () => {
      const b = await store.getBatch(id);
      return b && b.finishedAt ? b : undefined;
    }, 20_000, `batch ${id} to finish`);

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  afterAll(async () => {
    await flows.close();
    await deletePrefix(connection, prefix);
    await connection.quit();
  });

  it('runs each document through the steps in order, passing results on', async () => {
    const seen: string[] = [];
    start(fakeProcessors({ seen }));
    await submit('ok', ['a.txt', 'b.txt']);
    const batch = await finished('ok');
    expect(batch).toMatchObject({ status: 'completed', completed: 2, failed: 0 });
    expect(seen.filter((s) => s.startsWith('a.txt'))).toEqual(['a.txt:preprocess', 'a.txt:ocr', 'a.txt:nlp', 'a.txt:validate']);
    const docs = await store.getDocuments('ok');
    expect(docs.every((d) => d.status === 'completed' && STEPS.every((s) => d.steps[s]?.status === 'completed'))).toBe(true);
    // the OCR result saw preprocessing's, and NLP saw OCR's
    const nlp = JSON.parse((await blobs.get(`batches/ok/documents/ok-0/results/nlp.json`)).toString());
    expect(nlp.wordCount).toBe('text of a.txt, after text/plain'.length);
  });

  it('fails a bad document alone, without retries, and the batch goes on', async () => {
    const seen: string[] = [];
    start(fakeProcessors({ seen, failOn: { 'bad.png:preprocess': new CorruptDocumentError('cannot decode') } }));
    await submit('mixed', ['good.txt', 'bad.png']);
    const batch = await finished('mixed');
    expect(batch).toMatchObject({ status: 'completed_with_errors', completed: 1, failed: 1 });
    expect(seen.filter((s) => s.startsWith('bad.png'))).toEqual(['bad.png:preprocess']); // once: not retried, later steps never ran
    const bad = (await store.getDocuments('mixed'))[1]!;
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'corrupt_document', message: 'cannot decode' } });
    expect(bad.steps.ocr?.status).toBe('queued');
    // BullMQ agrees: the chain above the failed step failed too
    const validateQueue = new Queue('validate', { connection, prefix });
    const state = await validateQueue.getJobState('mixed-1.validate');
    await validateQueue.close();
    expect(state).toBe('failed');
  });

  it('retries a passing failure with backoff, then completes', async () => {
    const seen: string[] = [];
    start(fakeProcessors({ seen, flakyOnce: new Set(['flaky.txt:nlp']) }));
    await submit('retry', ['flaky.txt']);
    const batch = await finished('retry');
    expect(batch.status).toBe('completed');
    expect(seen.filter((s) => s === 'flaky.txt:nlp')).toHaveLength(2);
    expect((await store.getDocuments('retry'))[0]!.steps.nlp).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('runs no more steps of a cancelled batch', async () => {
    const seen: string[] = [];
    await submit('cancel', ['x.txt', 'y.txt']);
    await store.cancelBatch('cancel');
    start(fakeProcessors({ seen }));
    const batch = await finished('cancel');
    expect(batch).toMatchObject({ status: 'cancelled', cancelled: 2 });
    expect(seen).toEqual([]);
    expect((await store.getDocuments('cancel')).map((d) => d.error?.code)).toEqual(['cancelled', 'cancelled']);
  });

  it('reports a heartbeat per worker', async () => {
    start(fakeProcessors({ seen: [] }));
    const { liveWorkers } = await import('@docproc/runtime');
    const live = await waitFor(async () => {
      const w = await liveWorkers(connection, prefix, 5000);
      return w.length === 4 ? w : undefined;
    }, 5000, 'four heartbeats');
    expect(live.map((w) => w.step).sort()).toEqual(['nlp', 'ocr', 'preprocess', 'validate']);
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    expect(await liveWorkers(connection, prefix, 5000)).toEqual([]);
  });
});
