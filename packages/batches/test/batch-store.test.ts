import { Redis } from 'ioredis';
import {
  BatchStore,
  FAN_OUT_CHUNK,
  StepQueues,
  TaskLedger,
  directRun,
  handPagesOn,
  taskPolicy,
  nextStep,
  readEvents,
  removeQueuedSteps,
  submitBatch,
  type NewBatch,
} from '@docproc/batches';
import { loadConfig } from '@docproc/config';
import { UnsupportedTypeError, toQueuePriority, type StepName, type StepPayload } from '@docproc/catalog';
import { TEST_REDIS_URL, deletePrefix, preparedPage, testPrefix } from '@docproc/testkit';

const config = loadConfig({});

const batch = (id: string, docs: number, pipeline: NewBatch['pipeline'] = ['ocr', 'nlp']): NewBatch => ({
  id,
  priority: 2,
  pipeline,
  options: { minConfidence: 50 },
  documents: Array.from({ length: docs }, (_, i) => ({ id: `${id}-d${i}`, name: `f${i}.png`, blobKey: `k${i}`, size: 10 + i })),
});

/** A run of a document's step, recorded without a BullMQ task. */
const runOf = (batchId: string, documentId: string, step: StepName, pipeline: StepName[] = ['ocr', 'nlp'], page?: { index: number; count: number }) =>
  directRun({
    batchId,
    documentId,
    step,
    pipeline,
    name: 'f.png',
    blobKey: 'k',
    options: {},
    ...(page ? { page: { ...page, source: preparedPage(page.index) } } : {}),
  });

describe('BatchStore and the task ledger (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('store');
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const ledger = new TaskLedger(store, queues);
  const record = (batchId: string, documentId: string, step: StepName, outcome: Parameters<TaskLedger['record']>[1]) =>
    ledger.record({ batchId, documentId, step }, outcome);
  const create = async (b: NewBatch) => {
    await store.createBatch({
      ...b,
      tenant: b.tenant ?? 'default',
      submittedBy: b.submittedBy ?? 'anonymous',
      total: b.documents.length,
      refused: b.documents.filter((d) => d.error).length,
      createdAt: b.createdAt ?? new Date(),
    });
    await store.addDocuments(b.id, b.pipeline, b.documents);
  };
  const events = async (id: string) =>
    (await readEvents(redis, store.keys.events(id), '0', 1000)).map((e) => [e.type, e.data.step ?? '', e.data.status]);

  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  const corrupt = { code: 'corrupt_document' as const, message: 'bad' };

  it('creates a queued batch with its documents', async () => {
    await create(batch('b1', 2));
    const record = await store.getBatch('b1');
    expect(record).toMatchObject({ id: 'b1', status: 'queued', priority: 2, pipeline: ['ocr', 'nlp'], total: 2, completed: 0, startedAt: null });
    expect(record!.options).toEqual({ minConfidence: 50 });
    const docs = await store.getDocuments(await store.getDocumentIds('b1'));
    expect(docs.map((d) => [d!.name, d!.status, d!.steps.ocr?.status])).toEqual([
      ['f0.png', 'queued', 'queued'],
      ['f1.png', 'queued', 'queued'],
    ]);
    expect(await store.getBatch('nope')).toBeNull();
  });

  it('is running from the start of its first task, and a document shows the step it is in', async () => {
    await create(batch('b2', 2));
    const before = Date.now();
    expect(await ledger.started(runOf('b2', 'b2-d0', 'ocr'))).toBe(true);
    const running = await store.getBatch('b2');
    expect(running!.status).toBe('running');
    expect(Date.parse(running!.startedAt!)).toBeGreaterThanOrEqual(before);
    const doc = await store.getDocument('b2-d0');
    expect(doc).toMatchObject({ status: 'running', steps: { ocr: { status: 'running' }, nlp: { status: 'queued' } } });

    await record('b2', 'b2-d0', 'ocr', { status: 'completed', attempts: 1, resultJson: '{"text":"hi"}' });
    expect(await store.stepResult('b2-d0', 'ocr')).toEqual({ resultJson: '{"text":"hi"}', resultKey: undefined });
    await ledger.started(runOf('b2', 'b2-d0', 'nlp'));
    expect(
      (await record('b2', 'b2-d0', 'nlp', { status: 'completed', attempts: 1, documentStatus: 'completed', resultKey: 'r.json' })).batchStatus,
    ).toBe('running');
    const failed = { status: 'failed' as const, attempts: 1, documentStatus: 'failed' as const, error: corrupt };
    expect((await record('b2', 'b2-d1', 'ocr', failed)).batchStatus).toBe('completed_with_errors');
    // A late duplicate (a stalled task's second report) changes no counter.
    expect((await record('b2', 'b2-d1', 'ocr', failed)).batchStatus).toBe('completed_with_errors');
    expect(await store.getBatch('b2')).toMatchObject({ completed: 1, failed: 1, status: 'completed_with_errors' });
    expect(await store.finishedBefore(Date.now() + 1, 10)).toContain('b2');
    // every change is an event, in the order it was made
    expect(await events('b2')).toEqual([
      ['batch', '', 'running'],
      ['step', 'ocr', 'running'],
      ['step', 'ocr', 'completed'],
      ['step', 'nlp', 'running'],
      ['step', 'nlp', 'completed'],
      ['document', '', 'completed'],
      ['step', 'ocr', 'failed'],
      ['document', '', 'failed'],
      ['batch', '', 'completed_with_errors'],
      ['step', 'ocr', 'failed'],
    ]);
  });

  it('records a document refused at submit as failed, and ends a batch of only such documents', async () => {
    const b = batch('b3', 2);
    b.documents[0]!.error = { code: 'empty_document', message: 'empty' };
    await create(b);
    expect(await store.getBatch('b3')).toMatchObject({ status: 'queued', failed: 1 });
    expect((await store.getDocument('b3-d0'))!.error).toEqual({ code: 'empty_document', message: 'empty' });
    const all = batch('b3all', 1);
    all.documents[0]!.error = { code: 'empty_document', message: 'empty' };
    await create(all);
    expect(await store.getBatch('b3all')).toMatchObject({ status: 'failed', failed: 1 });
    expect((await store.getBatch('b3all'))!.finishedAt).not.toBeNull();
  });

  it('cancels a batch and its unfinished documents, once; a step ending later stops there', async () => {
    await create(batch('b4', 2));
    await ledger.started(runOf('b4', 'b4-d0', 'ocr'));
    expect(await store.cancelBatch('b4')).toBe('running');
    expect((await store.getDocuments(await store.getDocumentIds('b4'))).map((d) => [d!.status, d!.error?.code])).toEqual([
      ['cancelled', 'cancelled'],
      ['cancelled', 'cancelled'],
    ]);
    // a task starting now skips; one ending now does not revive its document
    expect(await ledger.started(runOf('b4', 'b4-d1', 'ocr'))).toBe(false);
    expect((await record('b4', 'b4-d0', 'ocr', { status: 'completed', attempts: 1 })).batchStatus).toBe('cancelled');
    expect(await store.cancelBatch('b4')).toBe('cancelled'); // the second cancel learns it was already cancelled
    expect(await store.getBatch('b4')).toMatchObject({ status: 'cancelled', cancelled: 2, failed: 0 });
    expect(await store.cancelBatch('unknown')).toBeNull();
  });

  it('reopens failed documents for a retry, from the step they failed in', async () => {
    await create(batch('b5', 2));
    await record('b5', 'b5-d0', 'ocr', { status: 'completed', attempts: 1, resultJson: '{}' });
    const error = { code: 'internal' as const, message: 'lost' };
    await record('b5', 'b5-d0', 'nlp', { status: 'failed', attempts: 3, documentStatus: 'failed', error });
    await record('b5', 'b5-d1', 'ocr', { status: 'completed', attempts: 1, resultJson: '{}' });
    await record('b5', 'b5-d1', 'nlp', { status: 'completed', attempts: 1, documentStatus: 'completed' });
    expect(await store.getBatch('b5')).toMatchObject({ status: 'completed_with_errors', failed: 1 });
    expect(
      await store.reopenDocuments('b5', [
        { id: 'b5-d0', steps: ['nlp'] },
        { id: 'b5-d1', steps: ['nlp'] },
      ]),
    ).toEqual(['b5-d0']);
    expect(await store.getBatch('b5')).toMatchObject({ status: 'running', failed: 0, completed: 1, finishedAt: null });
    expect(await store.getDocument('b5-d0')).toMatchObject({
      status: 'queued',
      error: null,
      retries: 1,
      steps: { ocr: { status: 'completed' }, nlp: { status: 'queued' } },
    });
    expect(await store.finishedBefore(Date.now() + 1, 100)).not.toContain('b5');
    // a second retry finds nothing to reopen
    expect(await store.reopenDocuments('b5', [{ id: 'b5-d0', steps: ['nlp'] }])).toEqual([]);
  });

  it('lists batches newest first, filtered, page by page', async () => {
    const base = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 7; i++) await create({ ...batch(`L${i}`, 1), createdAt: new Date(base + (i < 4 ? i * 1000 : 5000)) }); // three share a time
    const seen: string[] = [];
    let after;
    for (;;) {
      const page = await store.listBatches({ limit: 3, since: base, after });
      seen.push(...page.batches.map((b) => b.id));
      if (!page.last) break;
      after = page.last;
    }
    expect(seen).toEqual(['L6', 'L5', 'L4', 'L3', 'L2', 'L1', 'L0']);
    await store.cancelBatch('L2');
    expect((await store.listBatches({ limit: 10, since: base, status: 'cancelled' })).batches.map((b) => b.id)).toEqual(['L2']);
  });

  it('counts pages once, and tells the page task whether the step before has ended', async () => {
    await create(batch('b6', 1, ['preprocess', 'ocr']));
    const page = { index: 0, count: 2 };
    const pageRun = runOf('b6', 'b6-d0', 'ocr', ['preprocess', 'ocr'], page);
    expect(await ledger.pageDone(pageRun)).toMatchObject({ done: 1, previousStepStatus: 'queued' });
    expect(await ledger.pageDone(pageRun)).toMatchObject({ done: 1 });
    // the step before ends now: it learns how many of the pages it handed on are done
    const recorded = await record('b6', 'b6-d0', 'preprocess', { status: 'completed', attempts: 1, nextPagedStep: 'ocr' });
    expect(recorded.nextPagesDone).toBe(1);
    expect(await ledger.pageDone(runOf('b6', 'b6-d0', 'ocr', ['preprocess', 'ocr'], { index: 1, count: 2 }))).toMatchObject({
      done: 2,
      previousStepStatus: 'completed',
    });
  });

  it('removes a batch and everything it kept in Redis', async () => {
    await create(batch('b7', 3));
    const history = {
      step: 'ocr' as const,
      page: null,
      attempt: 1,
      code: 'internal' as const,
      message: 'x',
      worker: 'w',
      startedAt: '',
      failedAt: '',
    };
    await ledger.record({ batchId: 'b7', documentId: 'b7-d0', step: 'ocr' }, { status: 'queued', attempts: 1 }, { history });
    await record('b7', 'b7-d0', 'ocr', { status: 'completed', attempts: 1 });
    await store.deleteBatchRecords('b7');
    expect(await store.getBatch('b7')).toBeNull();
    expect(await redis.keys(`${prefix}:*b7*`)).toEqual([]);
    expect(await redis.zscore(store.keys.batches, 'b7')).toBeNull();
  });
});

describe('task chains (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('chain');
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const ledger = new TaskLedger(store, queues);

  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('knows the next step of a pipeline', () => {
    expect(nextStep({ step: 'preprocess', pipeline: ['preprocess', 'ocr', 'validate'] })).toBe('ocr');
    expect(nextStep({ step: 'validate', pipeline: ['preprocess', 'ocr', 'validate'] })).toBeUndefined();
  });

  it('fans a large batch out in chunks, each first task with the batch priority and the step retry policy', async () => {
    const big = batch('fan', FAN_OUT_CHUNK * 2 + 7);
    big.priority = 10;
    await submitBatch(store, queues, big);
    expect(await store.documentCount('fan')).toBe(FAN_OUT_CHUNK * 2 + 7);
    expect(await queues.get('ocr').getJobCountByTypes('prioritized')).toBe(FAN_OUT_CHUNK * 2 + 7);
    const first = await queues.get('ocr').getJob('fan-d0.ocr');
    const { queuePriority } = (await store.getBatch('fan'))!;
    expect(queuePriority).toBe(toQueuePriority(10, await store.tenantLoad('default')));
    expect(first!.opts).toMatchObject({
      priority: queuePriority,
      attempts: config.attempts.ocr,
      backoff: { type: 'exponential', delay: config.backoffMs.ocr },
    });
    expect(first!.data).toMatchObject({ batchId: 'fan', documentId: 'fan-d0', step: 'ocr', pipeline: ['ocr', 'nlp'] });
  });

  it('queues the next step once, however often a step completes', async () => {
    await submitBatch(store, queues, batch('b', 1));
    const first = await queues.get('ocr').getJob('b-d0.ocr');
    const done = { stored: { resultJson: '{}' }, handedOn: 0 };
    const run = directRun(first!.data, first!.opts.priority);
    expect(await ledger.completed(run, done)).toBe('running');
    expect(await ledger.completed(run, done)).toBe('running');
    expect(await queues.get('nlp').getJobCounts('prioritized', 'waiting')).toEqual({ prioritized: 1, waiting: 0 });
    expect((await queues.get('nlp').getJob('b-d0.nlp'))!.opts.priority).toBe((await store.getBatch('b'))!.queuePriority);
  });

  it("counts each tenant's open documents (fair share, quotas): up at submit, down as each ends or is cancelled, up on retry", async () => {
    const tenant = `t-${Date.now()}`;
    const load = () => store.tenantLoad(tenant);
    await submitBatch(store, queues, { ...batch('tl', 3), tenant });
    expect(await load()).toBe(3);
    const first = await queues.get('ocr').getJob('tl-d0.ocr');
    await ledger.failed(directRun(first!.data, first!.opts.priority), new UnsupportedTypeError('no'));
    expect(await load()).toBe(2);
    await store.reopenDocuments('tl', [{ id: 'tl-d0', steps: ['ocr', 'nlp'] }]);
    expect(await load()).toBe(3);
    await store.cancelBatch('tl');
    expect(await load()).toBe(0);
    // a lighter tenant's batch is queued ahead of a heavier one's of the same priority
    await submitBatch(store, queues, { ...batch('heavy', 40), tenant: `${tenant}-heavy` });
    await submitBatch(store, queues, { ...batch('light', 1), tenant: `${tenant}-light` });
    expect((await store.getBatch('light'))!.queuePriority).toBeLessThan((await store.getBatch('heavy'))!.queuePriority);
  });

  it('hands pages on one task each; when they were all read first, the step before queues the task that combines them', async () => {
    await submitBatch(store, queues, batch('p', 1, ['preprocess', 'ocr']));
    const payload = (await queues.get('preprocess').getJob('p-d0.preprocess'))!.data as StepPayload;
    const pages = [0, 1, 2].map((index) => preparedPage(index));
    await store.setPageCount('p-d0', 'ocr', 3);
    await handPagesOn(queues, payload, pages, 3, 11);
    const queued = (await queues.get('ocr').getJobs(['prioritized'])).filter((job) => job.data.batchId === 'p');
    expect(queued.map((job) => [job.id, job.data.page.index, job.data.page.count, job.data.page.source.blobKey]).sort()).toEqual([
      ['p-d0.ocr.p0', 0, 3, 'p0'],
      ['p-d0.ocr.p1', 1, 3, 'p1'],
      ['p-d0.ocr.p2', 2, 3, 'p2'],
    ]);
    for (const page of pages) {
      await ledger.pageDone(directRun({ ...payload, step: 'ocr', page: { index: page.index, count: 3, source: page } }));
    }
    await ledger.completed(directRun(payload, 11), { stored: { resultJson: '{}' }, handedOn: 3 });
    expect((await queues.get('ocr').getJob('p-d0.ocr'))!.data.combine).toEqual({ count: 3 });
  });

  it('takes a cancelled batch’s waiting tasks, page tasks included, off the queues', async () => {
    await submitBatch(store, queues, batch('c', 1, ['preprocess', 'ocr']));
    const payload = (await queues.get('preprocess').getJob('c-d0.preprocess'))!.data as StepPayload;
    const page = preparedPage(0);
    await store.setPageCount('c-d0', 'ocr', 2);
    await handPagesOn(queues, payload, [page, { ...page, index: 1 }], 2, 11);
    await store.cancelBatch('c');
    await removeQueuedSteps(queues, store, (await store.getBatch('c'))!);
    expect(await queues.get('preprocess').getJob('c-d0.preprocess')).toBeUndefined();
    expect((await queues.get('ocr').getJobs(['prioritized', 'waiting'])).filter((job) => job.data.batchId === 'c')).toEqual([]);
  });
});
