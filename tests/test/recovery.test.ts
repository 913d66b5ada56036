import { Queue } from 'bullmq';
import { recordKeys } from '@docproc/batches';
import { startRedisServer, waitFor, type TestRedisServer, PlatformUnderTest, documentEnds, scanPages as pages } from '@docproc/testkit';

const pidOf = (processedBy: string | undefined) => Number(/pid[ _](\d+)/.exec(processedBy ?? '')?.[1]);

describe('recovery with real worker processes', () => {
  let platform: PlatformUnderTest;
  afterEach(async () => platform.stop());

  it('runs the tasks of a SIGKILLed worker again on another within 15 s, three times in a 40-document batch; every document completes once', async () => {
    // tesseract.js: a page takes seconds, so the kill lands while the task runs (native Tesseract
    // can finish a small page between seeing it active and the kill)
    platform = new PlatformUnderTest({ DOCPROC_OCR_ENGINE: 'tesseract.js' });
    await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp'], { instances: { 'worker-ocr': 2 } });
    await platform.workersUp('ocr', 2);
    const id = await platform.submit(await pages(40, 14), { pipeline: 'ocr,nlp' });
    const ocr = new Queue('ocr', { connection: platform.redis, prefix: platform.prefix });
    const victims = new Set<string>();
    const recoveries: number[] = [];
    for (let kill = 0; kill < 3; kill++) {
      // a task running now, not one killed before (a task that crashes its worker twice is a poison pill)
      const job = await waitFor(
        async () => (await ocr.getActive()).find((j) => !victims.has(j.id!) && pidOf(j.processedBy) > 0),
        60_000,
        'a running OCR task',
      );
      victims.add(job.id!);
      const killedAt = Date.now();
      process.stdout.write(`kill ${kill + 1}: ${job.id} held by ${job.processedBy}\n`);
      process.kill(pidOf(job.processedBy), 'SIGKILL');
      const again = await waitFor(
        async () => {
          const now = await ocr.getJob(job.id!);
          return now && (now.processedOn ?? 0) > killedAt ? now : undefined;
        },
        30_000,
        `task ${job.id} to run again`,
      );
      recoveries.push(again.processedOn! - killedAt);
    }
    const ended = await platform.finished(id, 240_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: 40, failed: 0 } });
    const ends = await documentEnds(platform, id);
    expect(ends.size).toBe(40);
    expect([...ends.values()].every((statuses) => statuses.length === 1 && statuses[0] === 'completed')).toBe(true);
    for (const doc of await platform.documents(id)) expect(String(doc.steps.ocr?.text)).toContain('recovery test');
    process.stdout.write(`recovery after SIGKILL (ms): ${recoveries.join(', ')}\n`);
    for (const ms of recoveries) expect(ms).toBeLessThan(15_000);
    expect(platform.exits.filter((e) => e.includes('SIGKILL'))).toHaveLength(3);
    await ocr.close();
  }, 300_000);

  it('random SIGKILLs of busy workers every few seconds through a 60-document batch: nothing lost, nothing counted twice, no document charged', async () => {
    platform = new PlatformUnderTest({ DOCPROC_OCR_ENGINE: 'tesseract.js' });
    await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp', 'worker-validation'], { instances: { 'worker-ocr': 2 } });
    await platform.workersUp('ocr', 2);
    const id = await platform.submit(await pages(60, 6), { pipeline: 'ocr,nlp,validate' });
    const kills: string[] = [];
    for (let kill = 0; kill < 8; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      if ((await platform.status(id)).finishedAt) break;
      const busy = Object.values(await platform.redis.hgetall(`${platform.prefix}:workers`))
        .map((json) => JSON.parse(json) as { step: string; pid: number; active: number; current: string[] })
        .filter((w) => w.active > 0);
      const victim = busy[Math.floor(Math.random() * busy.length)];
      if (!victim) continue;
      kills.push(`${victim.step} pid ${victim.pid} holding ${victim.current.join(', ')}`);
      try {
        process.kill(victim.pid, 'SIGKILL');
      } catch {
        // it exited on its own meanwhile
      }
    }
    process.stdout.write(`kills:\n  ${kills.join('\n  ')}\n`);
    expect(kills.length).toBeGreaterThanOrEqual(4);
    const ended = await platform.finished(id, 300_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: 60, failed: 0 } });
    const ends = await documentEnds(platform, id);
    expect(ends.size).toBe(60);
    expect([...ends.values()].filter((statuses) => statuses.length !== 1)).toEqual([]);
    // every kill that caught a task is in its document's history, as a kill, not counted against it
    const crashes = [];
    for (const doc of await platform.documents(id)) {
      for (const json of await platform.redis.lrange(recordKeys(platform.prefix).failedAttempts(doc.documentId), 0, -1))
        crashes.push(JSON.parse(json));
    }
    expect(crashes.length).toBeGreaterThanOrEqual(1);
    expect(crashes.filter((c) => c.code !== 'worker_crashed' || c.cause !== 'killed' || c.charged !== false)).toEqual([]);
  }, 420_000);

  it('fails a document that crashes its worker again and again as worker_crashed, while the rest of its batch completes', async () => {
    platform = new PlatformUnderTest({ DOCPROC_CONCURRENCY: '1' });
    await platform.start(['orchestrator', 'worker-validation']);
    // a small heap (the worker needs about 70 MB idle): a huge text runs it out of memory, every time
    await platform.start(['worker-nlp'], { env: { NODE_OPTIONS: '--max-old-space-size=160' } });
    await platform.workersUp('nlp', 1);
    const poison = Buffer.from('lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(400_000));
    const files = [
      { name: 'a.txt', bytes: Buffer.from('A short letter about the harbour.') },
      { name: 'poison.txt', bytes: poison },
      { name: 'b.txt', bytes: Buffer.from('Another short note about the council.') },
    ];
    const id = await platform.submit(files, { pipeline: 'nlp,validate' });
    const ended = await platform.finished(id, 180_000);
    expect(ended).toMatchObject({ status: 'completed_with_errors', progress: { completed: 2, failed: 1 } });
    const docs = await platform.documents(id);
    expect(docs.find((d) => d.name === 'poison.txt')).toMatchObject({
      status: 'failed',
      error: { code: 'worker_crashed', message: 'the nlp step stopped its worker 2 times: the document seems to crash the engine' },
    });
    expect(docs.filter((d) => d.name !== 'poison.txt').every((d) => d.status === 'completed')).toBe(true);
    const dead = new Queue('dead-letter', { connection: platform.redis, prefix: platform.prefix });
    const poisonDoc = docs.find((d) => d.name === 'poison.txt')!;
    expect((await dead.getJob(`${poisonDoc.documentId}.nlp`))!.data.attempts.map((a: { code: string }) => a.code)).toEqual([
      'worker_crashed',
      'worker_crashed',
    ]); // one per crash
    await dead.close();
    // the pool is still there: the launcher restarted the worker after each crash
    await platform.workersUp('nlp', 1);
  }, 240_000);

  describe('with a Redis of its own (AOF, appendfsync everysec)', () => {
    let redis: TestRedisServer | undefined;
    afterAll(async () => {
      redis?.admin.disconnect();
      await redis?.stop();
    });

    it('loses nothing when Redis stops and starts mid-batch: 503 with Retry-After meanwhile, workers reconnect, every document once', async () => {
      redis = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec']);
      platform = new PlatformUnderTest({}, redis.url);
      await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp'], { instances: { 'worker-ocr': 2 } });
      await platform.workersUp('ocr', 2);
      const id = await platform.submit(await pages(20), { pipeline: 'ocr,nlp' });
      await waitFor(async () => ((await platform.status(id)).progress.completed >= 3 ? true : undefined), 120_000, 'some documents done');
      await redis.stop(); // a clean stop: the AOF is flushed
      const away = await fetch(`${platform.base}/v1/jobs/${id}`);
      expect(away.status).toBe(503);
      expect(away.headers.get('retry-after')).toBe('5');
      expect(((await away.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      // Away for longer than a worker's blocking wait (drainDelay 5 s + 1 s): the case where BullMQ
      // workers up to 6.1 never came back (taskforcesh/bullmq#4585); the NLP pool is idle, blocked, then.
      await new Promise((resolve) => setTimeout(resolve, 8000));
      await redis.start();
      const ended = await platform.finished(id, 240_000);
      expect(ended).toMatchObject({ status: 'completed', progress: { completed: 20, failed: 0 } });
      const ends = await documentEnds(platform, id);
      expect(ends.size).toBe(20);
      expect([...ends.values()].every((statuses) => statuses.length === 1)).toBe(true);
    }, 300_000);
  });
});
