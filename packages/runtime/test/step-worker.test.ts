import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import {
  BatchStore,
  StepQueues,
  TaskLedger,
  taskPolicy,
  readEvents,
  removeQueuedSteps,
  retryBatch,
  submitBatch,
  type NewBatch,
} from '@docproc/batches';
import { CorruptDocumentError, DEAD_LETTER_QUEUE, STEPS, nlpResultSchema, type DeadLetter, type StepName, type StepResults } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import {
  createLogger,
  createRedis,
  liveWorkers,
  runTask,
  startStepWorker,
  stepWorkerSettings,
  type PageWork,
  type StepProcessor,
  type StepWorker,
} from '@docproc/runtime';
import { LocalBlobStore, blobKeys } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, preparedPage, testPrefix, waitFor } from '@docproc/testkit';

const logger = createLogger('test', 'error');
/** Quick retries, so the tests see several attempts in little time. */
const config = loadConfig(
  {},
  { backoffMs: { preprocess: 50, ocr: 50, nlp: 50, validate: 50 }, attempts: { preprocess: 3, ocr: 3, nlp: 3, validate: 2 } },
);

/** Processors that record what they saw, and fail where a test tells them to. */
function fakeProcessors(behaviour: { failOn?: Record<string, Error>; flaky?: Map<string, number>; seen: string[] }) {
  const run =
    <S extends StepName>(step: S, result: (ctx: Parameters<StepProcessor<S>>[0]) => Promise<StepResults[S]> | StepResults[S]): StepProcessor<S> =>
    async (ctx) => {
      const key = `${ctx.payload.name}:${step}`;
      behaviour.seen.push(key);
      const failure = behaviour.failOn?.[key];
      if (failure) throw failure;
      const left = behaviour.flaky?.get(key) ?? 0;
      if (left > 0) {
        behaviour.flaky!.set(key, left - 1);
        throw new Error('ECONNRESET (flaky)');
      }
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
    nlp: run('nlp', async (ctx) =>
      nlpResultSchema.parse({
        language: 'eng',
        wordCount: (await ctx.resultOf('ocr'))!.text.length,
        tokens: [],
        keywords: [],
        entities: [],
      }),
    ),
    validate: run('validate', () => ({ status: 'passed', reasons: [], fields: {} })),
  } satisfies { [S in StepName]: StepProcessor<S> };
}

describe('step workers chaining real BullMQ queues', () => {
  const prefix = testPrefix('runtime');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  const blobs = new LocalBlobStore(mkdtempSync(join(tmpdir(), 'docproc-rt-')));
  const store = new BatchStore(connection, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(connection, prefix, taskPolicy(config));
  let workers: StepWorker[] = [];

  function start(processors: ReturnType<typeof fakeProcessors>, pages?: PageWork<'ocr'>, settings = config) {
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
        ...stepWorkerSettings(settings, step),
        heartbeatMs: 200,
      }),
    );
  }

  async function submit(id: string, names: string[], options: NewBatch['options'] = {}): Promise<NewBatch> {
    const batch: NewBatch = {
      id,
      priority: 0,
      pipeline: [...STEPS],
      options,
      documents: names.map((name, i) => ({ id: `${id}-${i}`, name, blobKey: `batches/${id}/${i}`, size: 1 })),
    };
    await submitBatch(store, queues, batch);
    return batch;
  }

  const documents = async (id: string) => (await store.getDocuments(await store.getDocumentIds(id))).map((d) => d!);
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
    workers = [];
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
    const docs = await documents('ok');
    expect(docs.every((d) => d.status === 'completed' && STEPS.every((s) => d.steps[s]?.status === 'completed'))).toBe(true);
    const nlp = JSON.parse(docs[0]!.steps.nlp!.resultJson!);
    expect(nlp.wordCount).toBe('text of a.txt, after text/plain'.length);
    // the batch ran from its first task's start, and said so as it happened
    const events = await readEvents(connection, store.keys.events('ok'), '0', 1000);
    expect(events[0]).toMatchObject({ type: 'batch', data: { status: 'running' } });
    expect(events.at(-1)).toMatchObject({ type: 'batch', data: { status: 'completed', completed: 2 } });
    // these short tasks had their start recorded with their end: each 'running' before its end, stamped with the run's start
    const firstStart = Math.min(...events.filter((e) => e.type === 'task').map((e) => Date.parse(String(e.data.started))));
    expect(Date.parse(batch.startedAt!)).toBe(firstStart);
    const running = events.findIndex((e) => e.type === 'step' && e.data.status === 'running');
    const ended = events.findIndex((e) => e.type === 'step' && e.data.status === 'completed');
    expect(running).toBeGreaterThan(0);
    expect(running).toBeLessThan(ended);
  });

  it('fails a bad document alone, without retries, and the batch goes on', async () => {
    const seen: string[] = [];
    start(fakeProcessors({ seen, failOn: { 'bad.png:preprocess': new CorruptDocumentError('cannot decode') } }));
    await submit('mixed', ['good.txt', 'bad.png']);
    const batch = await finished('mixed');
    expect(batch).toMatchObject({ status: 'completed_with_errors', completed: 1, failed: 1 });
    expect(seen.filter((s) => s.startsWith('bad.png'))).toEqual(['bad.png:preprocess']); // once: not retried, later steps never ran
    const bad = (await documents('mixed'))[1]!;
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'corrupt_document', message: 'cannot decode' } });
    expect(await queues.get('preprocess').getJobState('mixed-1.preprocess')).toBe('failed');
    expect(await queues.get('ocr').getJob('mixed-1.ocr')).toBeUndefined();
    // bad input is no dead letter: there is nothing to replay
    expect(await queues.deadLetters().getJob('mixed-1.preprocess')).toBeUndefined();
  });

  it('retries a passing failure with backoff, keeping each failure in the history, then completes', async () => {
    const seen: string[] = [];
    start(fakeProcessors({ seen, flaky: new Map([['flaky.txt:nlp', 2]]) }));
    await submit('retry', ['flaky.txt']);
    const batch = await finished('retry');
    expect(batch.status).toBe('completed');
    expect(seen.filter((s) => s === 'flaky.txt:nlp')).toHaveLength(3);
    expect((await documents('retry'))[0]!.steps.nlp).toMatchObject({ status: 'completed', attempts: 3 });
    const history = await store.failedAttempts('retry-0');
    expect(history.map((a) => [a.step, a.attempt, a.code, a.message])).toEqual([
      ['nlp', 1, 'internal', 'ECONNRESET (flaky)'],
      ['nlp', 2, 'internal', 'ECONNRESET (flaky)'],
    ]);
    expect(history[0]!.worker).toMatch(/^nlp-\w+ pid \d+ on /);
  });

  it('dead-letters a task that ran out of attempts, with its error history; a retry replays it from that step', async () => {
    const seen: string[] = [];
    const flaky = new Map([['doomed.txt:validate', 2]]); // validate has 2 attempts in this config
    start(fakeProcessors({ seen, flaky }));
    await submit('dead', ['doomed.txt', 'fine.txt']);
    const batch = await finished('dead');
    expect(batch).toMatchObject({ status: 'completed_with_errors', completed: 1, failed: 1 });
    const [doomed] = await documents('dead');
    expect(doomed).toMatchObject({ status: 'failed', error: { code: 'internal', message: 'ECONNRESET (flaky)' } });
    // the letter is written just after the document's record
    const letter = await waitFor(async () => queues.deadLetters().getJob('dead-0.validate'), 5000, 'the dead letter');
    expect(letter!.queueName).toBe(DEAD_LETTER_QUEUE);
    const data = letter!.data as DeadLetter;
    expect(data).toMatchObject({ batchId: 'dead', documentId: 'dead-0', step: 'validate', page: null, queue: 'validate', taskId: 'dead-0.validate' });
    expect(data.attempts.map((a) => a.attempt)).toEqual([1, 2]);

    // replay: only the failed step runs again; earlier results are reused
    const before = seen.length;
    expect(await retryBatch(store, queues, blobs, 'dead')).toBe(1);
    expect(await queues.deadLetters().getJob('dead-0.validate')).toBeUndefined();
    await waitFor(async () => ((await store.getBatch('dead'))?.status === 'completed' ? true : undefined), 20_000, 'the retried batch');
    expect(seen.slice(before)).toEqual(['doomed.txt:validate']);
    expect(await store.getBatch('dead')).toMatchObject({ completed: 2, failed: 0 });
    expect(await retryBatch(store, queues, blobs, 'dead')).toBe(0);
  });

  it('keeps large results in the blob store and small ones inline', async () => {
    const processors = fakeProcessors({ seen: [] });
    const bigText = 'word '.repeat(10_000);
    processors.ocr = async () => ({ text: bigText, confidence: 90, engine: 'fake', languages: ['eng'], pages: [] });
    start(processors);
    await submit('big', ['big.txt']);
    await finished('big');
    const [doc] = await documents('big');
    expect(doc!.steps.ocr!.resultJson).toBeUndefined();
    expect(JSON.parse((await blobs.get(doc!.steps.ocr!.resultKey!)).toString()).text).toBe(bigText);
    expect(JSON.parse(doc!.steps.nlp!.resultJson!).wordCount).toBe(bigText.length); // nlp read the blob
  });

  it('stops a cancelled batch: its queued steps are taken off the queues', async () => {
    const seen: string[] = [];
    const batch = await submit('cancel', ['x.txt', 'y.txt', 'z.txt']);
    await store.cancelBatch('cancel');
    await removeQueuedSteps(queues, store, batch);
    expect(await queues.get('preprocess').getJobCounts('prioritized', 'waiting')).toEqual({ prioritized: 0, waiting: 0 });
    start(fakeProcessors({ seen }));
    expect(await store.getBatch('cancel')).toMatchObject({ status: 'cancelled', cancelled: 3, completed: 0, failed: 0 });
    expect(seen).toEqual([]);
    expect((await documents('cancel')).map((d) => d.error?.code)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('aborts a running task of a cancelled batch within a second, on the worker that holds it', async () => {
    const seen: string[] = [];
    const processors = fakeProcessors({ seen });
    let abortedAfter: number | undefined;
    processors.ocr = async (ctx) => {
      seen.push('ocr started');
      const started = Date.now();
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      abortedAfter = Date.now();
      void started;
      throw ctx.signal.reason;
    };
    start(processors);
    await submit('abort', ['long.txt']);
    await waitFor(async () => (seen.includes('ocr started') ? true : undefined), 5000, 'ocr to start');
    const cancelledAt = Date.now();
    await store.cancelBatch('abort');
    await waitFor(async () => (abortedAfter ? true : undefined), 5000, 'the task to abort');
    expect(abortedAfter! - cancelledAt).toBeLessThan(1000);
    await waitFor(async () => ((await documents('abort'))[0]!.steps.ocr!.status === 'cancelled' ? true : undefined), 5000, 'the step record');
    const [doc] = await documents('abort');
    expect(doc).toMatchObject({ status: 'cancelled', steps: { preprocess: { status: 'completed' } } }); // finished work is kept
    expect(await queues.get('nlp').getJob('abort-0.nlp')).toBeUndefined();
  });

  it('ends a task past its time limit as timeout (per job in options.timeouts)', async () => {
    const processors = fakeProcessors({ seen: [] });
    processors.nlp = async (ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      throw ctx.signal.reason;
    };
    start(processors);
    await submit('slow', ['slow.txt'], { timeouts: { nlp: 300 } });
    const batch = await finished('slow');
    expect(batch).toMatchObject({ status: 'failed', failed: 1 });
    const [doc] = await documents('slow');
    expect(doc).toMatchObject({ status: 'timeout', error: { code: 'timeout', message: 'the nlp step took longer than its limit of 300 ms' } });
    expect(doc!.steps.nlp!.status).toBe('timeout');
  });

  /** Preprocessing that hands `count` pages on, and OCR that reads them page by page (failing where told). */
  function pagedDocument(count: number, seen: string[], failPage?: { name: string; index: number }) {
    const processors = fakeProcessors({ seen });
    processors.preprocess = async (ctx) => {
      const pages = Array.from({ length: count }, (_, index) => preparedPage(index));
      for (const page of pages) await ctx.pageReady(page, count);
      return { mediaType: 'application/pdf', pages };
    };
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

  it('runs a paged step as one task per page, handed on as made, and puts the pages together in order', async () => {
    const seen: string[] = [];
    const { processors, pages } = pagedDocument(5, seen);
    start(processors, pages);
    await submit('paged', ['five.pdf']);
    const batch = await finished('paged');
    expect(batch).toMatchObject({ status: 'completed', completed: 1 });
    expect(seen.filter((s) => s.startsWith('five.pdf:ocr page')).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `five.pdf:ocr page ${i}`));
    const [doc] = await documents('paged');
    expect(JSON.parse(doc!.steps.ocr!.resultJson!).text).toBe([0, 1, 2, 3, 4].map((i) => `text of page ${i}`).join('\f'));
    expect(doc!.steps.ocr!.pages).toEqual({ done: 5, total: 5 });
    // the per-page results went once they were combined
    expect(await blobs.exists(blobKeys.pageResult('paged', 'paged-0', 'ocr', 0))).toBe(false);
    // each page's progress was an event
    const pageEvents = (await readEvents(connection, store.keys.events('paged'), '0', 1000)).filter(
      (e) => e.type === 'page' && e.data.status === 'completed',
    );
    expect(pageEvents.map((e) => e.data.done).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('combines pages all read before the step that made them ended, without waiting in a task', async () => {
    const seen: string[] = [];
    const { processors, pages } = pagedDocument(3, seen);
    const handOn = processors.preprocess;
    processors.preprocess = async (ctx) => {
      const result = await handOn(ctx);
      // preprocessing ends only once OCR has read and counted every page it handed on
      await waitFor(async () => ((await store.donePages(ctx.payload.documentId, 'ocr')).size === 3 ? true : undefined), 10_000, 'OCR of the pages');
      return result;
    };
    start(processors, pages);
    await submit('late', ['late.pdf']);
    expect(await finished('late')).toMatchObject({ status: 'completed', completed: 1 });
    const [doc] = await documents('late');
    expect(JSON.parse(doc!.steps.ocr!.resultJson!).text).toBe('text of page 0\ftext of page 1\ftext of page 2');
    expect(seen.filter((s) => s.startsWith('late.pdf:ocr page'))).toHaveLength(3); // each page read once
    // the combining task (BullMQ may move it to completed a moment after its record ended the batch)
    await waitFor(async () => ((await queues.get('ocr').getJobState('late-0.ocr')) === 'completed' ? true : undefined), 5000, 'the combining task');
  });

  it('fails the document when one of its pages fails, and goes no further', async () => {
    const seen: string[] = [];
    const { processors, pages } = pagedDocument(4, seen, { name: 'four.pdf', index: 1 });
    start(processors, pages);
    await submit('badpage', ['four.pdf', 'fine.txt']);
    const batch = await finished('badpage');
    expect(batch).toMatchObject({ status: 'completed_with_errors', completed: 1, failed: 1 });
    const [bad] = await documents('badpage');
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'corrupt_document', message: 'page 2 is unreadable' } });
    expect(seen).not.toContain('four.pdf:nlp');
  });

  it('reports a heartbeat per worker', async () => {
    start(fakeProcessors({ seen: [] }));
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

  it('runs a task without a BullMQ worker: skips one whose document ended, refuses a broken payload', async () => {
    const seen: string[] = [];
    const deps = {
      step: 'nlp' as const,
      processor: fakeProcessors({ seen }).nlp,
      ledger: new TaskLedger(store, queues),
      blobs,
      logger,
      workerName: 'test',
      timeoutMs: 1000,
      startRecordMs: 0,
    };
    await submit('direct', ['d.txt']);
    const job = { id: 'direct-0.nlp', attemptsMade: 0, opts: { attempts: 1 }, updateProgress: async () => undefined };
    const data = { batchId: 'direct', documentId: 'direct-0', step: 'nlp', pipeline: [...STEPS], name: 'd.txt', blobKey: 'k', options: {} };
    await store.cancelBatch('direct');
    // Its start recorded at once: it does not run.
    expect(await runTask({ ...job, data }, deps)).toEqual({ resultKey: null });
    expect(seen).toEqual([]);
    // Its start recorded with its end (a short task): it ran, and its end records nothing.
    const eventsBefore = (await readEvents(connection, store.keys.events('direct'), '0', 1000)).length;
    expect(await runTask({ ...job, data }, { ...deps, startRecordMs: 10_000 })).toEqual({ resultKey: null });
    expect(seen).toEqual(['d.txt:nlp']);
    expect((await store.getDocument('direct-0'))?.steps.nlp?.status).not.toBe('completed');
    expect(await readEvents(connection, store.keys.events('direct'), '0', 1000)).toHaveLength(eventsBefore);
    expect(await queues.get('validate').getJobCounts()).toMatchObject({ waiting: 0, prioritized: 0 });
    await expect(runTask({ ...job, data: { ...data, documentId: '' } }, deps)).rejects.toThrow(UnrecoverableError);
  });
});
