import { Redis } from 'ioredis';
import { BatchStore, documentFlow, type NewBatch } from '@docproc/batches';
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

  it('runs a batch to completed_with_errors, counting each document once', async () => {
    await store.createBatch(batch('b2', 2));
    expect(await store.stepStarted('b2', 'b2-d0', 'ocr')).toBe(true);
    expect((await store.getBatch('b2'))!.status).toBe('running');
    expect(await store.stepFinished('b2', 'b2-d0', 'ocr', 'completed')).toBe('running');
    await store.stepStarted('b2', 'b2-d0', 'nlp');
    expect(await store.stepFinished('b2', 'b2-d0', 'nlp', 'completed', 'completed')).toBe('running');

    await store.stepStarted('b2', 'b2-d1', 'ocr');
    const error = { code: 'corrupt_document' as const, message: 'bad' };
    expect(await store.stepFinished('b2', 'b2-d1', 'ocr', 'failed', 'failed', error)).toBe('completed_with_errors');
    // A late duplicate (a stalled job's second report) changes no counter.
    expect(await store.stepFinished('b2', 'b2-d1', 'ocr', 'failed', 'failed', error)).toBe('completed_with_errors');

    const record = await store.getBatch('b2');
    expect(record).toMatchObject({ completed: 1, failed: 1, status: 'completed_with_errors' });
    expect(record!.finishedAt).not.toBeNull();
    const [ok, bad] = await store.getDocuments('b2');
    expect(ok!.steps.nlp).toMatchObject({ status: 'completed', attempts: 1 });
    expect(bad).toMatchObject({ status: 'failed', error });
  });

  it('ends a batch whose documents all failed as failed', async () => {
    await store.createBatch(batch('b3', 1));
    await store.stepStarted('b3', 'b3-d0', 'ocr');
    expect(await store.stepFinished('b3', 'b3-d0', 'ocr', 'failed', 'failed', { code: 'internal', message: 'x' })).toBe('failed');
  });

  it('cancels a running batch: no new step starts, and it stays cancelled', async () => {
    await store.createBatch(batch('b4', 2));
    await store.stepStarted('b4', 'b4-d0', 'ocr');
    expect(await store.cancelBatch('b4')).toBe('running');
    expect(await store.stepStarted('b4', 'b4-d1', 'ocr')).toBe(false);
    await store.stepFinished('b4', 'b4-d0', 'ocr', 'cancelled', 'cancelled', { code: 'cancelled', message: 'x' });
    expect(await store.stepFinished('b4', 'b4-d1', 'ocr', 'cancelled', 'cancelled', { code: 'cancelled', message: 'x' })).toBe('cancelled');
    expect(await store.getBatch('b4')).toMatchObject({ status: 'cancelled', cancelled: 2 });
    expect(await store.cancelBatch('unknown')).toBeNull();
  });
});

describe('documentFlow', () => {
  it('chains the steps so the first runs first', () => {
    const flow = documentFlow(
      { id: 'b', priority: 10, pipeline: ['preprocess', 'ocr', 'validate'], options: {} },
      { id: 'd', name: 'a.png', blobKey: 'k', size: 1 },
    );
    expect(flow.queueName).toBe('validate');
    expect(flow.children?.[0]?.queueName).toBe('ocr');
    expect(flow.children?.[0]?.children?.[0]?.queueName).toBe('preprocess');
    expect(flow.children?.[0]?.children?.[0]?.children).toBeUndefined();
    expect(flow.opts).toMatchObject({ jobId: 'd.validate', priority: 1, failParentOnFailure: true });
    expect(flow.data).toMatchObject({ batchId: 'b', documentId: 'd', step: 'validate', pipeline: ['preprocess', 'ocr', 'validate'] });
  });
});
