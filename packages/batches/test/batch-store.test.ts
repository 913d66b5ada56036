import { Redis } from 'ioredis';
import { BatchStore, StepQueues, enqueueBatch, nextStep, recordStepAndQueueNext, removeQueuedSteps, type NewBatch } from '@docproc/batches';
import { TEST_REDIS_URL, deletePrefix, testPrefix } from '@docproc/testkit';

describe('BatchStore (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('store');
  const store = new BatchStore(redis, prefix);

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  const batch = (id: string, docs: number): NewBatch => ({
    id,
    priority: 2,
    pipeline: ['ocr', 'nlp'],
    options: { minConfidence: 50 },
    documents: Array.from({ length: docs }, (_, i) => ({ id: `${id}-d${i}`, name: `f${i}.png`, blobKey: `k${i}`, size: 10 + i })),
  });

  it('creates a queued batch with its documents', async () => {
    await store.createBatch(batch('b1', 2));
    const record = await store.getBatch('b1');
    expect(record).toMatchObject({ id: 'b1', status: 'queued', priority: 2, pipeline: ['ocr', 'nlp'], total: 2, completed: 0, startedAt: null });
    expect(record!.options).toEqual({ minConfidence: 50 });
    const docs = await store.getDocuments('b1');
    expect(docs.map((d) => [d.name, d.status, d.steps.ocr?.status])).toEqual([
      ['f0.png', 'queued', 'queued'],
      ['f1.png', 'queued', 'queued'],
    ]);
    expect(await store.getBatch('nope')).toBeNull();
  });

  const at = Date.parse('2026-01-02T03:04:05.000Z');
  const ok = { status: 'completed' as const, startedAt: at, attempts: 1 };
  const corrupt = { code: 'corrupt_document' as const, message: 'bad' };

  it('runs a batch to completed_with_errors, counting each document once', async () => {
    await store.createBatch(batch('b2', 2));
    expect(await store.recordStep('b2', 'b2-d0', 'ocr', { ...ok, resultJson: '{"text":"hi"}' })).toBe('running');
    expect(await store.getBatch('b2')).toMatchObject({ status: 'running', startedAt: '2026-01-02T03:04:05.000Z' });
    expect(await store.stepResult('b2-d0', 'ocr')).toEqual({ json: '{"text":"hi"}', blobKey: undefined });
    expect(await store.recordStep('b2', 'b2-d0', 'nlp', { ...ok, documentStatus: 'completed', resultKey: 'batches/b2/r.json' })).toBe('running');

    const failed = { status: 'failed' as const, startedAt: at, attempts: 1, documentStatus: 'failed' as const, error: corrupt };
    expect(await store.recordStep('b2', 'b2-d1', 'ocr', failed)).toBe('completed_with_errors');
    // A late duplicate (a stalled job's second report) changes no counter.
    expect(await store.recordStep('b2', 'b2-d1', 'ocr', failed)).toBe('completed_with_errors');

    const record = await store.getBatch('b2');
    expect(record).toMatchObject({ completed: 1, failed: 1, status: 'completed_with_errors' });
    expect(record!.finishedAt).not.toBeNull();
    const [done, bad] = await store.getDocuments('b2');
    expect(done!.status).toBe('completed');
    expect(done!.steps.ocr).toMatchObject({ status: 'completed', attempts: 1, startedAt: '2026-01-02T03:04:05.000Z', resultJson: '{"text":"hi"}' });
    expect(done!.steps.nlp).toMatchObject({ status: 'completed', resultKey: 'batches/b2/r.json' });
    expect(bad).toMatchObject({ status: 'failed', error: corrupt });
  });

  it('ends a batch whose documents all failed as failed', async () => {
    await store.createBatch(batch('b3', 1));
    const outcome = {
      status: 'failed' as const,
      startedAt: at,
      attempts: 3,
      documentStatus: 'failed' as const,
      error: { code: 'internal' as const, message: 'x' },
    };
    expect(await store.recordStep('b3', 'b3-d0', 'ocr', outcome)).toBe('failed');
  });

  it('cancels a batch and its unfinished documents, and a step ending later stops there', async () => {
    await store.createBatch(batch('b4', 2));
    await store.recordStep('b4', 'b4-d0', 'ocr', ok);
    expect(await store.cancelBatch('b4')).toBe('running');
    // every document not done is cancelled at once, and the batch with them
    expect((await store.getDocuments('b4')).map((d) => [d.status, d.error?.code])).toEqual([
      ['cancelled', 'cancelled'],
      ['cancelled', 'cancelled'],
    ]);
    // the step that was running then ends without reviving its document: the chain stops
    expect(await store.recordStep('b4', 'b4-d0', 'nlp', ok)).toBe('cancelled');
    expect(await store.cancelBatch('b4')).toBe('cancelled');
    const record = await store.getBatch('b4');
    expect(record).toMatchObject({ status: 'cancelled', cancelled: 2 });
    expect(record!.finishedAt).not.toBeNull();
    expect(await store.cancelBatch('unknown')).toBeNull();
  });
});

describe('task chains (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('chain');
  const queues = new StepQueues(redis, prefix);
  const store = new BatchStore(redis, prefix);

  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('knows the next step of a pipeline', () => {
    expect(nextStep({ step: 'preprocess', pipeline: ['preprocess', 'ocr', 'validate'] })).toBe('ocr');
    expect(nextStep({ step: 'validate', pipeline: ['preprocess', 'ocr', 'validate'] })).toBeUndefined();
  });

  it("queues each document's first step with the batch priority, then the next step once", async () => {
    const batch: NewBatch = {
      id: 'b',
      priority: 10,
      pipeline: ['ocr', 'nlp'],
      options: {},
      documents: [{ id: 'd1', name: 'a.png', blobKey: 'k', size: 1 }],
    };
    await store.createBatch(batch);
    await enqueueBatch(queues, batch);
    const first = await queues.get('ocr').getJob('d1.ocr');
    expect(first!.opts.priority).toBe(1);
    expect(first!.data).toMatchObject({ batchId: 'b', documentId: 'd1', step: 'ocr', pipeline: ['ocr', 'nlp'] });

    const ok = { status: 'completed' as const, startedAt: Date.now(), attempts: 1 };
    expect(await recordStepAndQueueNext(store, queues, first!.data, ok, first!.opts.priority)).toBe('running');
    // a re-run step records again but queues nothing twice
    expect(await recordStepAndQueueNext(store, queues, first!.data, ok, first!.opts.priority)).toBe('running');
    expect(await queues.get('nlp').getJobCounts('prioritized', 'waiting')).toEqual({ prioritized: 1, waiting: 0 });
    expect((await queues.get('nlp').getJob('d1.nlp'))!.data).toMatchObject({ step: 'nlp', documentId: 'd1' });
    expect((await store.getDocuments('b')).map((d) => [d.status, d.steps.ocr?.status])).toEqual([['running', 'completed']]);
  });

  it('queues one job per page of a paged step, and cancelling takes them off again', async () => {
    const batch: NewBatch = {
      id: 'p',
      priority: 0,
      pipeline: ['preprocess', 'ocr'],
      options: {},
      documents: [{ id: 'p1', name: 'a.pdf', blobKey: 'k', size: 1 }],
    };
    await store.createBatch(batch);
    await enqueueBatch(queues, batch);
    const first = await queues.get('preprocess').getJob('p1.preprocess');
    const ok = { status: 'completed' as const, startedAt: Date.now(), attempts: 1 };
    await recordStepAndQueueNext(store, queues, first!.data, ok, first!.opts.priority, { pageCount: 3 });
    const pages = (await queues.get('ocr').getJobs(['prioritized', 'waiting'])).filter((job) => job.data.batchId === 'p');
    expect(pages.map((job) => [job.id, job.data.page]).sort()).toEqual([
      ['p1.ocr.p0', { index: 0, count: 3 }],
      ['p1.ocr.p1', { index: 1, count: 3 }],
      ['p1.ocr.p2', { index: 2, count: 3 }],
    ]);
    await store.cancelBatch('p');
    await removeQueuedSteps(queues, store, batch);
    expect((await queues.get('ocr').getJobs(['prioritized', 'waiting'])).filter((job) => job.data.batchId === 'p')).toEqual([]);
  });

  it('takes the next step off its queue when the batch was cancelled meanwhile', async () => {
    const batch: NewBatch = {
      id: 'c',
      priority: 0,
      pipeline: ['ocr', 'nlp'],
      options: {},
      documents: [{ id: 'c1', name: 'a.png', blobKey: 'k', size: 1 }],
    };
    await store.createBatch(batch);
    await enqueueBatch(queues, batch);
    const first = await queues.get('ocr').getJob('c1.ocr');
    await store.cancelBatch('c');
    const ok = { status: 'completed' as const, startedAt: Date.now(), attempts: 1 };
    expect(await recordStepAndQueueNext(store, queues, first!.data, ok, first!.opts.priority)).toBe('cancelled');
    expect(await queues.get('nlp').getJob('c1.nlp')).toBeUndefined();
  });
});
