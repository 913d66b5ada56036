import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchStore, StepQueues, enqueueBatch, type NewBatch } from '@docproc/batches';
import { CorruptDocumentError, STEPS, type StepName, type StepResults } from '@docproc/catalog';
import { createLogger, createRedis, startStepWorker, type PageWork, type StepProcessor, type StepWorker } from '@docproc/runtime';
import { LocalBlobStore, blobKeys } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from '@docproc/testkit';

const logger = createLogger('test', 'error');

/** Processors that record what they saw, and fail where a test tells them to. */
function fakeProcessors(behaviour: { failOn?: Record<string, Error>; flakyOnce?: Set<string>; seen: string[] }) {
  const run =
    <S extends StepName>(step: S, result: (ctx: Parameters<StepProcessor<S>>[0]) => Promise<StepResults[S]> | StepResults[S]): StepProcessor<S> =>
    async (ctx) => {
      behaviour.seen.push(`${ctx.payload.name}:${step}`);
      const failure = behaviour.failOn?.[`${ctx.payload.name}:${step}`];
      if (failure) throw failure;
      if (behaviour.flakyOnce?.delete(`${ctx.payload.name}:${step}`)) throw new Error('ECONNRESET (flaky)');
      return result(ctx);
    };
  return {
    preprocess: run('preprocess', () => ({ mediaType: 'text/plain', pages: [] })),
    ocr: run('ocr', async (ctx) => ({
      text: `text of ${ctx.payload.name}, after ${(await ctx.resultOf('preprocess'))?.mediaType}`,
      confidence: 90,
      engine: 'fake',
      languages: ['eng'],
      pages: [],
    })),
    nlp: run('nlp', async (ctx) => ({
      language: 'eng',
      wordCount: (await ctx.resultOf('ocr'))!.text.length,
      tokens: [],
      keywords: [],
      entities: [],
    })),
    validate: run('validate', () => ({ status: 'passed', reasons: [] })),
  } satisfies { [S in StepName]: StepProcessor<S> };
}

describe('step workers chaining real BullMQ queues', () => {
  const prefix = testPrefix('runtime');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  const blobs = new LocalBlobStore(mkdtempSync(join(tmpdir(), 'docproc-rt-')));
  const store = new BatchStore(connection, prefix);
  const queues = new StepQueues(connection, prefix);
  let workers: StepWorker[] = [];

  function start(processors: ReturnType<typeof fakeProcessors>, pages?: PageWork<'ocr'>) {
    workers = STEPS.map((step) =>
      startStepWorker({
        step,
        processor: processors[step] as StepProcessor<typeof step>,
        pages: step === 'ocr' ? (pages as PageWork<typeof step>) : undefined,
        connection,
        prefix,
        blobs,
        logger,
        concurrency: 2,
        heartbeatMs: 200,
      }),
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
    await enqueueBatch(queues, batch);
    return batch;
  }

  const finished = (id: string) =>
    waitFor(
      async () => {
        const b = await store.getBatch(id);
        return b && b.finishedAt ? b : undefined;
      },
      20_000,
      `batch ${id} to finish`,
    );

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  afterAll(async () => {
    await queues.close();
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
    const nlp = JSON.parse(docs[0]!.steps.nlp!.resultJson!);
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
    // BullMQ agrees: the step failed for good, and no later step was queued
    expect(await queues.get('preprocess').getJobState('mixed-1.preprocess')).toBe('failed');
    expect(await queues.get('ocr').getJob('mixed-1.ocr')).toBeUndefined();
    expect(await queues.get('ocr').getJobState('mixed-0.ocr')).toBe('completed');
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

  it('keeps large results in the blob store and small ones inline', async () => {
    const processors = fakeProcessors({ seen: [] });
    const bigText = 'word '.repeat(10_000);
    processors.ocr = async () => ({ text: bigText, confidence: 90, engine: 'fake', languages: ['eng'], pages: [] });
    start(processors);
    await submit('big', ['big.txt']);
    await finished('big');
    const [doc] = await store.getDocuments('big');
    expect(doc!.steps.ocr!.resultJson).toBeUndefined();
    expect(JSON.parse((await blobs.get(doc!.steps.ocr!.resultKey!)).toString()).text).toBe(bigText);
    expect(doc!.steps.nlp!.resultJson).toBeDefined();
    expect(JSON.parse(doc!.steps.nlp!.resultJson!).wordCount).toBe(bigText.length); // nlp read the blob
  });

  it('stops a cancelled batch: its queued steps are taken off the queues', async () => {
    const seen: string[] = [];
    const batch = await submit('cancel', ['x.txt', 'y.txt', 'z.txt']);
    await store.cancelBatch('cancel');
    const { removeQueuedSteps } = await import('@docproc/batches');
    await removeQueuedSteps(queues, store, batch);
    expect(await queues.get('preprocess').getJobCounts('prioritized', 'waiting')).toEqual({ prioritized: 0, waiting: 0 });
    start(fakeProcessors({ seen }));
    const record = await finished('cancel');
    expect(record).toMatchObject({ status: 'cancelled', cancelled: 3, completed: 0 });
    expect(seen).toEqual([]);
    expect((await store.getDocuments('cancel')).map((d) => d.error?.code)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('lets a running step finish when its batch is cancelled, then queues nothing more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    const processors = fakeProcessors({ seen });
    const plainOcr = processors.ocr;
    processors.ocr = async (ctx) => {
      await gate;
      return plainOcr(ctx);
    };
    start(processors);
    await submit('midway', ['m.txt']);
    await waitFor(async () => (seen.includes('m.txt:preprocess') ? true : undefined), 5000, 'preprocess to run');
    await waitFor(async () => ((await queues.get('ocr').getActiveCount()) > 0 ? true : undefined), 5000, 'ocr to start');
    await store.cancelBatch('midway');
    release();
    const record = await finished('midway');
    expect(record).toMatchObject({ status: 'cancelled', cancelled: 1 });
    expect(await queues.get('nlp').getJob('midway-0.nlp')).toBeUndefined();
    expect((await store.getDocuments('midway'))[0]!.steps.ocr!.status).toBe('completed');
  });

  /** Preprocessing that makes `count` pages, and OCR that reads them page by page (failing where told). */
  function pagedDocument(count: number, seen: string[], failPage?: { name: string; index: number }) {
    const processors = fakeProcessors({ seen });
    processors.preprocess = async () => ({
      mediaType: 'application/pdf',
      pages: Array.from({ length: count }, (_, index) => ({
        index,
        blobKey: `p${index}`,
        width: 1,
        height: 1,
        rotation: 0,
        skewAngle: 0,
        despeckled: false,
        dpi: 300,
        text: null,
      })),
    });
    const pages: PageWork<'ocr', { index: number; text: string }> = {
      page: async (ctx) => {
        const index = ctx.payload.page!.index;
        seen.push(`${ctx.payload.name}:ocr page ${index}`);
        if (ctx.payload.name === failPage?.name && index === failPage.index) throw new CorruptDocumentError(`page ${index + 1} is unreadable`);
        await new Promise((r) => setTimeout(r, 20));
        return { index, text: `text of page ${index}` };
      },
      combine: async (_ctx, done) => ({
        text: done.map((p) => p.text).join('\f'),
        confidence: 90,
        engine: 'fake',
        languages: ['eng'],
        pages: done.map((p) => ({ index: p.index, text: p.text, confidence: 90, words: [], source: 'ocr' as const })),
      }),
    };
    return { processors, pages: pages as PageWork<'ocr'> };
  }

  it('runs a paged step as one job per page and puts the pages together in order', async () => {
    const seen: string[] = [];
    const { processors, pages } = pagedDocument(5, seen);
    start(processors, pages);
    await submit('paged', ['five.pdf']);
    const batch = await finished('paged');
    expect(batch).toMatchObject({ status: 'completed', completed: 1 });
    expect(seen.filter((s) => s.startsWith('five.pdf:ocr page')).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `five.pdf:ocr page ${i}`));
    // every page had its own BullMQ job, and NLP saw the combined text
    // (the job that combined the pages finishes just after its record)
    const states = () => Promise.all([0, 1, 2, 3, 4].map((i) => queues.get('ocr').getJobState(`paged-0.ocr.p${i}`)));
    await waitFor(async () => ((await states()).every((state) => state === 'completed') ? true : undefined), 5000, 'the page jobs to complete');
    const [doc] = await store.getDocuments('paged');
    expect(JSON.parse(doc!.steps.ocr!.resultJson!).text).toBe([0, 1, 2, 3, 4].map((i) => `text of page ${i}`).join('\f'));
    expect(JSON.parse(doc!.steps.nlp!.resultJson!).wordCount).toBe([0, 1, 2, 3, 4].map((i) => `text of page ${i}`).join('\f').length);
    // the step started when its first page did: at least five 20 ms pages, two at a time, before it ended
    const ocr = doc!.steps.ocr!;
    expect(Date.parse(ocr.finishedAt!) - Date.parse(ocr.startedAt!)).toBeGreaterThanOrEqual(50);
    // the per-page results went once they were combined
    expect(await blobs.exists(blobKeys.pageResult('paged', 'paged-0', 'ocr', 0))).toBe(false);
  });

  it('starts OCR on pages the step before hands on, before that step has ended', async () => {
    const seen: string[] = [];
    const { processors, pages } = pagedDocument(3, seen);
    const makePages = processors.preprocess;
    processors.preprocess = async (ctx) => {
      const result = await makePages(ctx);
      for (const page of result.pages) await ctx.pageReady(page, result.pages.length);
      // preprocessing ends only once OCR has read a page it handed on
      await waitFor(async () => (seen.includes('streamed.pdf:ocr page 0') ? true : undefined), 10_000, 'OCR of a handed-on page');
      return result;
    };
    start(processors, pages);
    await submit('streamed', ['streamed.pdf']);
    const batch = await finished('streamed');
    expect(batch).toMatchObject({ status: 'completed', completed: 1 });
    const [doc] = await store.getDocuments('streamed');
    expect(JSON.parse(doc!.steps.ocr!.resultJson!).text).toBe('text of page 0\ftext of page 1\ftext of page 2');
    // each page was read once: preprocessing's end queued no second round
    expect(seen.filter((s) => s.startsWith('streamed.pdf:ocr page')).sort()).toEqual([
      'streamed.pdf:ocr page 0',
      'streamed.pdf:ocr page 1',
      'streamed.pdf:ocr page 2',
    ]);
    expect(JSON.parse(doc!.steps.preprocess!.resultJson!).pages).toHaveLength(3);
  });

  it('fails the document when one of its pages fails, and goes no further', async () => {
    const seen: string[] = [];
    const { processors, pages } = pagedDocument(4, seen, { name: 'four.pdf', index: 1 });
    start(processors, pages);
    await submit('badpage', ['four.pdf', 'fine.txt']);
    const batch = await finished('badpage');
    expect(batch).toMatchObject({ status: 'completed_with_errors', completed: 1, failed: 1 });
    const [bad] = await store.getDocuments('badpage');
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'corrupt_document', message: 'page 2 is unreadable' } });
    expect(seen).not.toContain('four.pdf:nlp');
  });

  it('reports a heartbeat per worker', async () => {
    start(fakeProcessors({ seen: [] }));
    const { liveWorkers } = await import('@docproc/runtime');
    const live = await waitFor(
      async () => {
        const w = await liveWorkers(connection, prefix, 5000);
        return w.length === 4 ? w : undefined;
      },
      5000,
      'four heartbeats',
    );
    expect(live.map((w) => w.step).sort()).toEqual(['nlp', 'ocr', 'preprocess', 'validate']);
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    expect(await liveWorkers(connection, prefix, 5000)).toEqual([]);
  });
});
