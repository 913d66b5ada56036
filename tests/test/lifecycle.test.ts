import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { DEAD_LETTER_QUEUE, type DeadLetter } from '@docproc/catalog';
import { blobKeys } from '@docproc/storage';
import { makePdf, renderTextPng, waitFor, PlatformUnderTest } from '@docproc/testkit';

const text = (i: number) => ({ name: `t${String(i).padStart(3, '0')}.txt`, bytes: Buffer.from(`The text of document ${i}, in plain words.`) });

/**
 * The lifecycle with real worker processes, as `docproc up` runs them: each
 * test a platform (or part of one) of its own on real Redis.
 */
describe('the batch lifecycle with real worker processes', () => {
  let platform: PlatformUnderTest;
  afterEach(async () => platform.stop());

  it('gives a priority-10 batch the next free slot of every step, page tasks included, behind a backlog of priority -10 work', async () => {
    platform = new PlatformUnderTest({ DOCPROC_CONCURRENCY: '1' });
    await platform.start(['orchestrator', 'worker-nlp']);
    await platform.workersUp('nlp', 1);
    // a backlog in the second step: low work that passed NLP and waits for validation
    const lowA = await platform.submit(
      Array.from({ length: 12 }, (_, i) => text(i)),
      { pipeline: 'nlp,validate', priority: '-10' },
    );
    await waitFor(async () => ((await platform.documents(lowA)).every((d) => d.steps.nlp) ? true : undefined), 30_000, 'low work through NLP');
    // a backlog in the first step (the NLP pool paused), then the urgent batch behind it
    const queues = {
      nlp: new Queue('nlp', { connection: platform.redis, prefix: platform.prefix }),
      validate: new Queue('validate', { connection: platform.redis, prefix: platform.prefix }),
    };
    await queues.nlp.pause();
    const lowB = await platform.submit(
      Array.from({ length: 12 }, (_, i) => text(100 + i)),
      { pipeline: 'nlp,validate', priority: '-10' },
    );
    const high = await platform.submit([text(900), text(901)], { pipeline: 'nlp,validate', priority: '10' });
    await queues.nlp.resume();
    await waitFor(
      async () => ((await platform.documents(high)).every((d) => d.steps.nlp) ? true : undefined),
      30_000,
      'the urgent batch through NLP',
    );
    await waitFor(async () => ((await platform.documents(lowB)).every((d) => d.steps.nlp) ? true : undefined), 30_000, 'the rest through NLP');
    await platform.start(['worker-validation']);
    await Promise.all([lowA, lowB, high].map((id) => platform.finished(id, 60_000)));

    /** When each document's task of `step` started (BullMQ's processedOn). */
    const starts = async (id: string, step: 'nlp' | 'validate') =>
      Promise.all((await platform.documents(id)).map(async (d) => (await queues[step].getJob(`${d.documentId}.${step}`))!.processedOn!));
    const [highNlp, lowBNlp] = [await starts(high, 'nlp'), await starts(lowB, 'nlp')];
    expect(Math.max(...highNlp)).toBeLessThan(Math.min(...lowBNlp));
    const [highValidate, lowValidate] = [await starts(high, 'validate'), [...(await starts(lowA, 'validate')), ...(await starts(lowB, 'validate'))]];
    expect(Math.max(...highValidate)).toBeLessThan(Math.min(...lowValidate));
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }, 180_000);

  it('gives the urgent batch’s page tasks the next OCR slot behind a backlog of low page tasks', async () => {
    platform = new PlatformUnderTest({ DOCPROC_CONCURRENCY: '1' });
    await platform.start(['orchestrator', 'worker-preprocessing']);
    // text-layer PDFs: every page is an OCR page task, read from its layer (quick)
    const pdf = (tag: string) =>
      makePdf([1, 2, 3].map((n) => ({ kind: 'text' as const, lines: [`Document ${tag}, page ${n} of three, plain typeset words.`] })));
    const low = await platform.submit(
      Array.from({ length: 4 }, (_, i) => ({ name: `low${i}.pdf`, bytes: pdf(`low ${i}`) })),
      { pipeline: 'preprocess,ocr', priority: '-10' },
    );
    await waitFor(async () => ((await platform.documents(low)).every((d) => d.steps.preprocess) ? true : undefined), 60_000, 'low pages handed on');
    const high = await platform.submit([{ name: 'high.pdf', bytes: pdf('high') }], { pipeline: 'preprocess,ocr', priority: '10' });
    await waitFor(
      async () => ((await platform.documents(high)).every((d) => d.steps.preprocess) ? true : undefined),
      60_000,
      'urgent pages handed on',
    );
    await platform.start(['worker-ocr']);
    await Promise.all([low, high].map((id) => platform.finished(id, 120_000)));
    const ocr = new Queue('ocr', { connection: platform.redis, prefix: platform.prefix });
    const pageStarts = async (id: string) =>
      (await Promise.all((await platform.documents(id)).flatMap((d) => [0, 1, 2].map((p) => ocr.getJob(`${d.documentId}.ocr.p${p}`))))).map(
        (job) => job!.processedOn!,
      );
    expect(Math.max(...(await pageStarts(high)))).toBeLessThan(Math.min(...(await pageStarts(low))));
    await ocr.close();
  }, 180_000);

  it('cancels a batch: waiting tasks leave the queues, the running one aborts within a second, finished work is kept', async () => {
    platform = new PlatformUnderTest({ DOCPROC_CONCURRENCY: '1' });
    await platform.start(['orchestrator', 'worker-preprocessing']);
    await platform.workersUp('preprocess', 1);
    // scanned pages: each takes the preprocessing worker a while (render, orientation, deskew)
    const scan = await renderTextPng(
      Array.from({ length: 30 }, (_, i) => `Line ${i} of a long scanned page with many words on it.`),
      { width: 2400 },
    );
    const sharp = (await import('sharp')).default;
    const jpeg = await sharp(scan).greyscale().jpeg().toBuffer();
    const meta = await sharp(jpeg).metadata();
    const longPdf = makePdf(Array.from({ length: 12 }, () => ({ kind: 'image' as const, jpeg, width: meta.width, height: meta.height })));
    const id = await platform.submit([{ name: 'long.pdf', bytes: longPdf }, text(1), text(2)], { pipeline: 'preprocess,ocr' });
    const [longDoc, ...rest] = await platform.documents(id);
    const ocr = new Queue('ocr', { connection: platform.redis, prefix: platform.prefix });
    await waitFor(async () => ((await ocr.getJob(`${longDoc!.documentId}.ocr.p1`)) ? true : undefined), 60_000, 'the second page handed on');
    expect((await platform.post(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    const preprocess = new Queue('preprocess', { connection: platform.redis, prefix: platform.prefix });
    const task = await waitFor(
      async () => {
        const job = await preprocess.getJob(`${longDoc!.documentId}.preprocess`);
        return job?.finishedOn ? job : undefined;
      },
      10_000,
      'the running task to stop',
    );
    // from the moment the cancel was recorded (the batch's finishedAt) to the end of the running task
    const cancelledAt = Date.parse((await platform.status(id)).finishedAt!);
    expect(task.finishedOn! - cancelledAt).toBeLessThan(1000);
    expect(task.failedReason).toContain('cancelled');
    // the waiting documents never ran: their tasks left the queue (or, taken in the instant between the
    // cancel and their removal, saw the document cancelled and skipped)
    for (const doc of rest) {
      const left = await waitFor(
        async () => {
          const job = await preprocess.getJob(`${doc.documentId}.preprocess`);
          return !job ? null : job.finishedOn ? job : undefined;
        },
        10_000,
        'a task taken at the cancel to end',
      );
      if (left) expect(left.returnvalue).toEqual({ resultKey: null });
    }
    for (const doc of (await platform.documents(id)).slice(1)) expect(doc).toMatchObject({ status: 'cancelled', steps: { preprocess: null } });
    const status = await platform.status(id);
    expect(status).toMatchObject({ status: 'cancelled', progress: { cancelled: 3, failed: 0, completed: 0 } });
    expect((await platform.post(`/v1/jobs/${id}/cancel`)).status).toBe(409);
    // the pages it stored before the cancel are still there
    expect(await platform.redis.hget(`${platform.prefix}:doc:${longDoc!.documentId}`, 'ocr.pageCount')).toBe('12');
    await preprocess.close();
  }, 120_000);

  it('retries a passing failure, dead-letters a task out of attempts, and replays it through the API', async () => {
    platform = new PlatformUnderTest({ DOCPROC_ATTEMPTS: 'nlp=2', DOCPROC_BACKOFF_MS: '1500', DOCPROC_BACKOFF_JITTER: '0' });
    await platform.start(['orchestrator']);
    const id = await platform.submit([text(1), text(2)], { pipeline: 'nlp,validate' });
    const [a, b] = await platform.documents(id);
    // the store loses both documents (their batch's pack) for a while: reading them fails, and is retried
    const pack = join(platform.dataDir, ...blobKeys.originalsPack(id).split('/'));
    await rename(pack, `${pack}.away`);
    await platform.start(['worker-nlp', 'worker-validation']);
    const history = (doc: string) =>
      platform.get<{ failedAttempts: { attempt: number; code: string; message: string; worker: string }[] }>(`/v1/jobs/${id}/documents/${doc}`);
    await waitFor(async () => ((await history(a!.documentId)).failedAttempts.length > 0 ? true : undefined), 30_000, 'the first attempt to fail');
    // the first document comes back before the second attempt, the second does not (the pack is cut short before it)
    const [, aStart, aLength] = /@(\d+)\+(\d+)$/
      .exec((await platform.redis.hget(`${platform.prefix}:doc:${a!.documentId}`, 'blobKey'))!)!
      .map(Number);
    expect(aStart).toBe(0);
    await writeFile(pack, (await readFile(`${pack}.away`)).subarray(0, aLength));
    const ended = await platform.finished(id, 60_000);
    expect(ended).toMatchObject({ status: 'completed_with_errors', progress: { completed: 1, failed: 1 } });
    const [docA, docB] = await platform.documents(id);
    expect(docA).toMatchObject({ status: 'completed' });
    expect(docB).toMatchObject({ status: 'failed', error: { code: 'internal' } });
    const dead = new Queue(DEAD_LETTER_QUEUE, { connection: platform.redis, prefix: platform.prefix });
    const letter = (await dead.getJob(`${b!.documentId}.nlp`))!.data as DeadLetter;
    expect(letter.attempts.map((x) => x.attempt)).toEqual([1, 2]);
    expect(letter.attempts[0]!.worker).toMatch(/^nlp-\w+ pid \d+ on /);
    expect(letter.attempts[1]!.message).toContain('no blob');

    await rename(`${pack}.away`, pack);
    const retried = await platform.post(`/v1/jobs/${id}/retry`);
    expect(retried).toMatchObject({ status: 202, body: { status: 'running', retried: 1 } });
    expect(await platform.finished(id, 60_000)).toMatchObject({ status: 'completed', progress: { completed: 2, failed: 0 } });
    expect(await dead.getJob(`${b!.documentId}.nlp`)).toBeUndefined();
    expect((await platform.post(`/v1/jobs/${id}/retry`)).status).toBe(409);
    await dead.close();
  }, 120_000);

  it('ends a task past its time limit as timeout', async () => {
    platform = new PlatformUnderTest();
    await platform.start(['orchestrator', 'worker-ocr']);
    await platform.workersUp('ocr', 1);
    const page = await renderTextPng(
      Array.from({ length: 40 }, (_, i) => `Line ${i} of a page that takes OCR a few seconds to read.`),
      { width: 2550 },
    );
    const id = await platform.submit([{ name: 'slow.png', bytes: page }], { pipeline: 'ocr', options: JSON.stringify({ timeouts: { ocr: 400 } }) });
    expect(await platform.finished(id, 60_000)).toMatchObject({ status: 'failed' });
    const [doc] = await platform.documents(id);
    expect(doc).toMatchObject({ status: 'timeout', error: { code: 'timeout', message: 'the ocr step took longer than its limit of 400 ms' } });
  }, 90_000);
});
