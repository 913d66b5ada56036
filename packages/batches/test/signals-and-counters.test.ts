import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BatchStore, DURATION_BUCKETS_SECONDS, StepQueues, TaskLedger, taskPolicy, queueSignals, readCounters, readEvents } from '@docproc/batches';
import { RetryableError } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import { TEST_REDIS_URL, deletePrefix, preparedPage, testPrefix } from '@docproc/testkit';

describe('queue signals (real BullMQ)', () => {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = testPrefix('signals');
  const queue = new Queue('ocr', { connection: redis, prefix });
  afterAll(async () => {
    await queue.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('counts every waiting state and finds the oldest task across the wait list and every priority band', async () => {
    const now = Date.now();
    expect(await queueSignals(queue, redis, now)).toMatchObject({ waiting: 0, prioritized: 0, oldestWaitingSeconds: 0 });
    // Queued at known times: BullMQ keeps the `timestamp` it is given.
    await queue.add('a', {}, { timestamp: now - 5_000 });
    await queue.add('b', {}, { timestamp: now - 1_000 });
    await queue.add('c', {}, { priority: 1, timestamp: now - 3_000 });
    await queue.add('d', {}, { priority: 7, timestamp: now - 40_000 }); // a low band, the oldest of all
    await queue.add('e', {}, { priority: 7, timestamp: now - 2_000 });
    await queue.add('f', {}, { delay: 60_000 }); // not due: not waiting yet
    const signals = await queueSignals(queue, redis, now);
    expect(signals).toMatchObject({ queue: 'ocr', waiting: 2, prioritized: 3, delayed: 1, due: 0, active: 0, failed: 0 });
    expect(signals.oldestWaitingSeconds).toBeCloseTo(40, 0);

    // Without the prioritized set (what a KEDA Redis list scaler reads) the oldest would be 5 s.
    await queue.remove((await queue.getJobs(['prioritized'])).find((j) => j.name === 'd')!.id!);
    expect((await queueSignals(queue, redis, now)).oldestWaitingSeconds).toBeCloseTo(5, 0);
  });

  it('counts a delayed task that is due as waiting since it became due', async () => {
    await queue.obliterate({ force: true });
    const now = Date.now();
    await queue.add('retry', {}, { delay: 1 });
    const later = now + 12_000;
    const signals = await queueSignals(queue, redis, later);
    expect(signals.oldestWaitingSeconds).toBeGreaterThan(11);
    expect(signals.due).toBe(1);
  });
});

describe('platform counters (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('counters');
  const store = new BatchStore(redis, prefix, 1000);
  const queues = new StepQueues(redis, prefix, taskPolicy(loadConfig({})));
  const ledger = new TaskLedger(store, queues);
  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('adds up task outcomes, durations as a cumulative histogram, and pages, from any number of writers', async () => {
    // The ledger writes each span with its record, at the time the attempt ends: these ended long after they started.
    const now = Date.now();
    const payload = (index: number) => ({
      batchId: 'b1',
      documentId: 'd1',
      step: 'ocr' as const,
      pipeline: ['ocr' as const],
      name: 'p.png',
      blobKey: 'k',
      options: {},
      page: { index, count: 3, source: preparedPage(index) },
    });
    const run = (index: number, attempt: number, startedAt: number) => ({
      payload: payload(index),
      taskId: `d1.ocr.p${index}`,
      attempt,
      attempts: 3,
      worker: 'ocr-1 pid 7 on host',
      queuedAt: now - 2_000,
      startedAt,
    });
    await Promise.all([
      ledger.pageDone(run(0, 1, now - 300)),
      ledger.pageDone(run(1, 1, now - 7_000)),
      ledger.failed(run(2, 1, now - 10), new RetryableError('passing')),
      ledger.crashed(run(2, 2, now - 60_000), { cause: 'killed', detail: 'exit by SIGKILL', neighbours: [] }, 2), // not timed
      store.countTask({ step: 'ocr', outcome: 'dead_lettered' }),
    ]);
    const counters = await readCounters(redis, store.keys.counters);
    expect(counters.tasks).toEqual(
      expect.arrayContaining([
        { step: 'ocr', outcome: 'completed', count: 2 },
        { step: 'ocr', outcome: 'retried', count: 1 },
        { step: 'ocr', outcome: 'crashed', count: 1 },
        { step: 'ocr', outcome: 'dead_lettered', count: 1 },
      ]),
    );
    expect(counters.pages).toEqual({ ocr: 2 });
    const h = counters.durations.ocr!;
    expect(h.count).toBe(3);
    expect(h.sum).toBeGreaterThanOrEqual(7.31);
    expect(h.sum).toBeLessThan(7.31 + 3 * 2);
    const at = (bound: number) => h.buckets[DURATION_BUCKETS_SECONDS.indexOf(bound as (typeof DURATION_BUCKETS_SECONDS)[number])];
    expect([at(10), at(300)]).toEqual([3, 3]);
    expect(at(0.05)).toBeLessThanOrEqual(1);

    // Each attempt is a task event in its batch's stream: who ran it, when it was queued, started and ended.
    const tasks = (await readEvents(redis, store.keys.events('b1'), '0', 100)).filter((e) => e.type === 'task');
    expect(tasks).toHaveLength(4);
    const page1 = tasks.find((e) => e.data.page === 1)!.data;
    expect(page1).toMatchObject({
      document: 'd1',
      step: 'ocr',
      page: 1,
      attempt: 1,
      status: 'completed',
      worker: 'ocr-1 pid 7 on host',
      queued: new Date(now - 2_000).toISOString(),
      started: new Date(now - 7_000).toISOString(),
    });
    expect(Date.parse(String(page1.at))).toBeGreaterThanOrEqual(now);
    expect(tasks.map((e) => e.data.status).sort()).toEqual(['completed', 'completed', 'crashed', 'retried']);
  });
});
