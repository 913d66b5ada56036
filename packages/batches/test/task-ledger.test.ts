import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  BatchStore,
  StepQueues,
  TaskLedger,
  TaskLostError,
  chargedCrashes,
  directRun,
  isCharged,
  taskPolicy,
  submitBatch,
  type NewBatch,
  type TaskRun,
} from '@docproc/batches';
import { CorruptDocumentError, RetryableError, type StepPayload } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import { TEST_REDIS_URL, deletePrefix, testPrefix, waitFor } from '@docproc/testkit';

const config = loadConfig({});

describe('which crashes count against a document', () => {
  const crash = (cause: 'crashed' | 'killed' | 'vanished' | 'lock_expired', neighbours: string[] = []) => ({ cause, neighbours });

  it('counts a crash the document can have caused when it ran alone', () => {
    const alone = crash('crashed');
    expect(isCharged(alone, [alone])).toBe(true);
    expect(isCharged(crash('vanished'), [])).toBe(true);
  });

  it('never counts a worker stopped from outside, or alive but late with its lock', () => {
    expect(chargedCrashes([crash('killed'), crash('killed'), crash('killed')])).toBe(0);
    expect(chargedCrashes([crash('lock_expired'), crash('lock_expired')])).toBe(0);
  });

  it('counts crashes beside other tasks only when two of them had no neighbour in common', () => {
    expect(chargedCrashes([crash('crashed', ['a']), crash('crashed', ['a', 'b'])])).toBe(0); // 'a' may be the cause
    expect(chargedCrashes([crash('crashed', ['a']), crash('crashed', ['b'])])).toBe(2); // the task is what they share
    expect(chargedCrashes([crash('killed', ['a']), crash('crashed', ['b'])])).toBe(0);
  });
});

describe('the task ledger (real Redis, real BullMQ)', () => {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = testPrefix('ledger');
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const ledger = new TaskLedger(store, queues);

  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  const batch = (id: string, docs = 1): NewBatch => ({
    id,
    priority: 0,
    pipeline: ['nlp', 'validate'],
    options: {},
    documents: Array.from({ length: docs }, (_, i) => ({ id: `${id}-d${i}`, name: `f${i}.txt`, blobKey: `k${i}`, size: 1 })),
  });
  const payload = (batchId: string, doc = 0): StepPayload => ({
    batchId,
    documentId: `${batchId}-d${doc}`,
    step: 'nlp',
    pipeline: ['nlp', 'validate'],
    name: `f${doc}.txt`,
    blobKey: `k${doc}`,
    options: {},
  });
  const run = (batchId: string, attempt = 1, attempts = 3): TaskRun => ({
    ...directRun(payload(batchId)),
    attempt,
    attempts,
    worker: 'nlp-1 pid 1 on h',
  });

  it('retries a passing failure while attempts last, then fails the document and dead-letters the task with its history', async () => {
    await submitBatch(store, queues, batch('f'));
    expect(await ledger.failed(run('f', 1), new RetryableError('busy'))).toBe('retry');
    expect((await store.getDocument('f-d0'))!.steps.nlp).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await ledger.failed(run('f', 3), new RetryableError('still busy'))).toBe('final');
    expect(await store.getDocument('f-d0')).toMatchObject({ status: 'failed', error: { code: 'internal', message: 'still busy' } });
    const letter = await queues.deadLetters().getJob('f-d0.nlp');
    expect(letter!.data.attempts.map((a: { message: string }) => a.message)).toEqual(['busy', 'still busy']);
    expect(await store.getBatch('f')).toMatchObject({ status: 'failed', failed: 1 });
  });

  it('fails bad input at once, without a dead letter', async () => {
    await submitBatch(store, queues, batch('bad'));
    expect(await ledger.failed(run('bad', 1), new CorruptDocumentError('unreadable'))).toBe('final');
    expect(await store.getDocument('bad-d0')).toMatchObject({ status: 'failed', error: { code: 'corrupt_document' } });
    expect(await queues.deadLetters().getJob('bad-d0.nlp')).toBeUndefined();
  });

  it('refuses every record of a run that lost its task’s lock, and writes nothing', async () => {
    await submitBatch(store, queues, batch('lost'));
    const lock = store.keys.taskLock('nlp', 'lost-d0.nlp');
    await redis.set(lock, 'another-worker:1');
    const stale = { ...run('lost'), taskId: 'lost-d0.nlp', lockToken: 'this-worker:1' };
    await expect(ledger.completed(stale, { stored: { resultJson: '{}' }, handedOn: 0 })).rejects.toBeInstanceOf(TaskLostError);
    await expect(ledger.failed(stale, new RetryableError('x'))).rejects.toBeInstanceOf(TaskLostError);
    expect((await store.getDocument('lost-d0'))!.steps.nlp!.status).toBe('queued');
    expect(await store.failedAttempts('lost-d0')).toEqual([]);
    expect(await queues.get('validate').getJob('lost-d0.validate')).toBeUndefined();
    // the run that holds the lock records as usual
    expect(await ledger.completed({ ...stale, lockToken: 'another-worker:1' }, { stored: { resultJson: '{}' }, handedOn: 0 })).toBe('running');
    expect(await queues.get('validate').getJob('lost-d0.validate')).toBeDefined();
  });

  it('records each crash once with its cause; kills never fail a document, crashes it caused alone do', async () => {
    await submitBatch(store, queues, batch('c'));
    const killed = { cause: 'killed' as const, detail: 'exit by SIGKILL', neighbours: [] };
    for (let i = 0; i < 3; i++) expect(await ledger.crashed(run('c'), killed, 2)).toBe('again');
    const aborted = { cause: 'crashed' as const, detail: 'exit by SIGABRT', neighbours: [] };
    expect(await ledger.crashed(run('c'), aborted, 2)).toBe('again');
    expect(await ledger.crashed(run('c'), aborted, 2)).toBe('failed');
    const history = await store.failedAttempts('c-d0');
    expect(history.map((a) => [a.code, a.cause, a.charged])).toEqual([
      ['worker_crashed', 'killed', false],
      ['worker_crashed', 'killed', false],
      ['worker_crashed', 'killed', false],
      ['worker_crashed', 'crashed', true],
      ['worker_crashed', 'crashed', true],
    ]);
    expect(history[0]!.message).toContain('exit by SIGKILL');
    expect(await store.getDocument('c-d0')).toMatchObject({
      status: 'failed',
      error: { code: 'worker_crashed', message: 'the nlp step stopped its worker 2 times: the document seems to crash the engine' },
    });
    expect(await queues.deadLetters().getJob('c-d0.nlp')).toBeDefined();
  });

  it('fails a task that lost its worker too often whatever the causes (no task goes round for ever)', async () => {
    await submitBatch(store, queues, batch('many'));
    const killed = { cause: 'killed' as const, detail: 'exit by SIGKILL', neighbours: [] };
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(await ledger.crashed(run('many'), killed, 2));
    expect(outcomes.indexOf('failed')).toBe(9);
    expect((await store.getDocument('many-d0'))!.error!.message).toBe('the nlp step lost its worker 10 times: it is not tried again');
  });

  it('releases the tasks of a gone worker at once: BullMQ’s next stalled check queues them again', async () => {
    // a prefix of its own: no other test's tasks on the queue
    const own = testPrefix('release');
    const store = new BatchStore(redis, own, config.maxEventsPerJob);
    const queues = new StepQueues(redis, own, taskPolicy(config));
    const ledger = new TaskLedger(store, queues);
    await submitBatch(store, queues, batch('rel', 2));
    let started = 0;
    const connections = [redis.duplicate(), redis.duplicate()];
    // a worker that takes both tasks and never ends them (as if frozen, then gone)
    const holder = new Worker('nlp', () => ((started += 1), new Promise(() => undefined)), {
      connection: connections[0]!,
      prefix: own,
      concurrency: 2,
      lockDuration: 60_000,
      stalledInterval: 500,
    });
    holder.on('error', () => undefined); // its locks are taken away: it cannot renew them
    await waitFor(async () => (started === 2 ? true : undefined), 10_000, 'both tasks taken');
    const released = await ledger.release('nlp', holder.id);
    expect(released.sort()).toEqual(['rel-d0.nlp', 'rel-d1.nlp']);
    expect(await ledger.release('nlp', holder.id)).toEqual([]); // one caller gets each
    expect(await redis.exists(store.keys.taskLock('nlp', 'rel-d0.nlp'))).toBe(0);
    expect(await ledger.wasReleased('rel-d0.nlp')).toBe(true);
    expect(await ledger.wasReleased('rel-d0.nlp')).toBe(false);
    await holder.close(true);
    // the stalled check of another worker of the queue finds them, queues them again, and that worker runs them
    const queue = new Queue('nlp', { connection: redis, prefix: own });
    const ran: string[] = [];
    const other = new Worker('nlp', async (job) => void ran.push(job.id!), { connection: connections[1]!, prefix: own, stalledInterval: 500 });
    await waitFor(async () => (ran.length === 2 ? true : undefined), 10_000, 'the released tasks to run again');
    expect(ran.sort()).toEqual(['rel-d0.nlp', 'rel-d1.nlp']);
    await other.close();
    await queue.close();
    await queues.close();
    for (const connection of connections) connection.disconnect();
    await deletePrefix(redis, own);
  });
});
