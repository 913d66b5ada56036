import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BatchStore, DURATION_BUCKETS_SECONDS, queueSignals, readCounters, readEvents } from '@docproc/batches';
import { TEST_REDIS_URL, deletePrefix, testPrefix } from '@docproc/testkit';

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
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('adds up task outcomes, durations as a cumulative histogram, and pages, from any number of writers', async () => {
    const t = Date.UTC(2026, 10, 24, 12, 0, 0);
    const span = { batchId: 'b1', documentId: 'd1', step: 'ocr' as const, worker: 'ocr-1 pid 7 on host', queuedAt: t - 2_000 };
    await Promise.all([
      store.taskEnded({ ...span, page: 0, attempt: 1, startedAt: t, endedAt: t + 300, outcome: 'completed', pages: 1 }),
      store.taskEnded({ ...span, page: 1, attempt: 1, startedAt: t, endedAt: t + 7_000, outcome: 'completed', pages: 1 }),
      store.taskEnded({ ...span, page: 2, attempt: 1, startedAt: t, endedAt: t + 10, outcome: 'retried' }),
      store.taskEnded({ ...span, page: 2, attempt: 2, startedAt: t + 20, endedAt: t + 60_000, outcome: 'crashed' }), // not timed
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
    expect(h.sum).toBeCloseTo(7.31, 5);
    const at = (bound: number) => h.buckets[DURATION_BUCKETS_SECONDS.indexOf(bound as (typeof DURATION_BUCKETS_SECONDS)[number])];
    expect([at(0.05), at(0.5), at(5), at(10), at(300)]).toEqual([1, 2, 2, 3, 3]);

    // Each attempt is a task event in its batch's stream: who ran it, when it was queued, started and ended.
    const tasks = (await readEvents(redis, store.keys.events('b1'), '0', 100)).filter((e) => e.type === 'task');
    expect(tasks).toHaveLength(4);
    expect(tasks.find((e) => e.data.page === 1)!.data).toEqual({
      document: 'd1',
      step: 'ocr',
      page: 1,
      attempt: 1,
      status: 'completed',
      worker: 'ocr-1 pid 7 on host',
      queued: '2026-11-24T11:59:58.000Z',
      started: '2026-11-24T12:00:00.000Z',
      at: '2026-11-24T12:00:07.000Z',
    });
  });
});
