import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { queueName } from '@docproc/catalog';
import {
  BatchStore,
  Lease,
  OrphanSweeper,
  StepQueues,
  TaskLedger,
  directRun,
  readCounters,
  submitBatch,
  taskIdOf,
  taskPolicy,
} from '@docproc/batches';
import { loadConfig } from '@docproc/config';
import { openBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix } from '@docproc/testkit';

const config = loadConfig({});

describe('orphaned documents and leases (real Redis, real BullMQ queues)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testPrefix('orphans');
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const blobs = openBlobStore({ ...config, dataDir: mkdtempSync(join(tmpdir(), 'docproc-orphans-')) });
  const sweeper = new OrphanSweeper({ redis, prefix, store, queues, blobs });

  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('sends round again a document whose task is gone (seen so twice), and only that one', async () => {
    const documents = ['a', 'b', 'c'].map((id) => ({ id: `orph-${id}`, name: `${id}.txt`, blobKey: `k-${id}`, size: 3 }));
    await submitBatch(store, queues, { id: 'orph', priority: 0, pipeline: ['nlp', 'validate'], options: {}, documents });
    // Document a's first step completed and its next task was never queued (a process died between the two writes).
    const ledger = new TaskLedger(store, queues);
    await ledger.record({ batchId: 'orph', documentId: 'orph-a', step: 'nlp' }, { status: 'completed', attempts: 1 });
    await queues.get('nlp').remove(taskIdOf('orph-a', 'nlp'));
    // Document b's task was failed by BullMQ with no record of it (Redis refused the record).
    const takerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const taker = new Worker(queueName('nlp'), null, { connection: takerConnection, prefix, autorun: false });
    const job = await taker.getNextJob('token');
    expect(job?.id).toBe(taskIdOf('orph-b', 'nlp'));
    await job!.moveToFailed(new UnrecoverableError('given up'), 'token', false);
    expect(await job!.getState()).toBe('failed');
    await taker.close();
    await takerConnection.quit();

    expect(await sweeper.sweep()).toEqual([]); // first seen: suspects only
    const repaired = await sweeper.sweep();
    expect(repaired.sort((x, y) => x.documentId.localeCompare(y.documentId))).toEqual([
      { batchId: 'orph', documentId: 'orph-a', step: 'validate' },
      { batchId: 'orph', documentId: 'orph-b', step: 'nlp' },
    ]);
    const queued = ['waiting', 'prioritized'];
    expect(queued).toContain(await (await queues.get('validate').getJob(taskIdOf('orph-a', 'validate')))!.getState());
    expect(queued).toContain(await (await queues.get('nlp').getJob(taskIdOf('orph-b', 'nlp')))!.getState());
    expect((await readCounters(redis, store.keys.counters)).repairs).toEqual({ orphaned: 2 });
    // Now each has a task: nothing more to repair, and c was never touched.
    await sweeper.sweep();
    expect(await sweeper.sweep()).toEqual([]);
    // A run recorded on its own (no task) and ended: not an orphan.
    await ledger.completed(
      directRun({ batchId: 'orph', documentId: 'orph-c', step: 'validate', pipeline: ['nlp', 'validate'], name: 'c', blobKey: 'k', options: {} }),
      {
        stored: {},
        handedOn: 0,
      },
    );
  });

  it('a document that moves on between two sweeps is not taken for an orphan', async () => {
    const documents = [{ id: 'mov-a', name: 'a.txt', blobKey: 'k', size: 3 }];
    await submitBatch(store, queues, { id: 'mov', priority: 0, pipeline: ['nlp', 'validate'], options: {}, documents });
    await queues.get('nlp').remove(taskIdOf('mov-a', 'nlp'));
    const ledger = new TaskLedger(store, queues);
    expect(await sweeper.sweep()).toEqual([]);
    // Its step is recorded meanwhile (the next task on its way): where it stands changed.
    await ledger.record({ batchId: 'mov', documentId: 'mov-a', step: 'nlp' }, { status: 'running', attempts: 1, startedAt: Date.now() });
    expect((await sweeper.sweep()).filter((r) => r.batchId === 'mov')).toEqual([]);
  });

  it('a lease has one holder; it is free again once given up or run out', async () => {
    const key = `${prefix}:lease`;
    const first = await Lease.take(redis, key, 400);
    expect(first).not.toBeNull();
    expect(await Lease.take(redis, key, 400)).toBeNull();
    expect(await Lease.holding(redis, key, 400, async () => 'ran')).toBeUndefined();
    await first!.giveUp();
    expect(await Lease.holding(redis, key, 400, async () => 'ran')).toBe('ran');
    // A holder that stops renewing (dies) loses it when it runs out.
    await redis.set(key, 'someone who died', 'PX', 300);
    expect(await Lease.take(redis, key, 400)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const next = await Lease.take(redis, key, 400);
    expect(next).not.toBeNull();
    await next!.giveUp();
  });
});
