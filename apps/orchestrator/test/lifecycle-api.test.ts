import { existsSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { BatchStore, StepQueues, taskPolicy, readEvents } from '@docproc/batches';
import { STEPS, nlpResultSchema, type StepName, type StepResults } from '@docproc/catalog';
import { loadConfig, type Config } from '@docproc/config';
import {
  announceCapabilities,
  createLogger,
  createRedis,
  startStepWorker,
  stepWorkerSettings,
  type StepProcessor,
  type StepWorker,
} from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, renderTextPng, testPrefix, waitFor } from '@docproc/testkit';
import { createApp } from '../src/app';
import { sweepExpired } from '../src/retention';

const logger = createLogger('test', 'error');

/** Steps that do almost nothing, each `delayMs` long, so a batch's life can be watched. */
function quickProcessors(delayMs = 0): { [S in StepName]: StepProcessor<S> } {
  const after = async <T>(value: T) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return value;
  };
  return {
    preprocess: () => after<StepResults['preprocess']>({ mediaType: 'text/plain', pages: [] }),
    ocr: () => after<StepResults['ocr']>({ text: 'x', confidence: 90, engine: 'fake', languages: ['eng'], pages: [] }),
    nlp: async (ctx) =>
      after(
        nlpResultSchema.parse({
          language: 'eng',
          wordCount: (await ctx.blobs.get(ctx.payload.blobKey)).length,
          tokens: [],
          keywords: [],
          entities: [],
        }),
      ),
    validate: () => after<StepResults['validate']>({ status: 'passed', reasons: [], fields: {} }),
  };
}

describe('the job lifecycle through the API (real Redis and BullMQ)', () => {
  const prefix = testPrefix('life');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-life-'));
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const workerConnection = createRedis(TEST_REDIS_URL, 'worker');
  const config: Config = loadConfig({}, { redisUrl: TEST_REDIS_URL, keyPrefix: prefix, dataDir });
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const blobs = new LocalBlobStore(dataDir);
  const appWith = (overrides: Partial<Config> = {}) => createApp({ config: { ...config, ...overrides }, redis, store, queues, blobs, logger });
  const app = appWith();
  let workers: StepWorker[] = [];

  const startWorkers = (delayMs = 0, steps: readonly StepName[] = STEPS) => {
    const processors = quickProcessors(delayMs);
    workers.push(
      ...steps.map((step) =>
        startStepWorker({
          step,
          processor: processors[step] as StepProcessor<typeof step>,
          connection: workerConnection,
          prefix,
          blobs,
          logger,
          concurrency: 4,
          ...stepWorkerSettings(config, step),
        }),
      ),
    );
  };
  const stopWorkers = async () => {
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
  };
  const finished = (id: string) => waitFor(async () => ((await store.getBatch(id))?.finishedAt ? true : undefined), 60_000, `job ${id} to finish`);

  /** POST /v1/jobs with `count` small text files. */
  function submitTexts(count: number, fields: Record<string, string> = { pipeline: 'nlp,validate' }, target = app) {
    let req = request(target).post('/v1/jobs');
    for (let i = 0; i < count; i++)
      req = req.attach('files', Buffer.from(`document number ${i} `.repeat(1 + (i % 3))), `doc-${String(i).padStart(4, '0')}.txt`);
    for (const [key, value] of Object.entries(fields)) req = req.field(key, value);
    return req;
  }

  afterEach(stopWorkers);
  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    await Promise.all([redis.quit(), workerConnection.quit()]);
  });

  describe('submit-time checks', () => {
    it('refuses an unknown option, naming it', async () => {
      const res = await submitTexts(1, { options: JSON.stringify({ minConfidance: 70 }) }).expect(400);
      expect(res.body.error.message).toContain('options');
      expect(JSON.stringify(res.body.error.details)).toContain('minConfidance');
    });

    it('refuses OCR languages the OCR workers do not have', async () => {
      await announceCapabilities(redis, prefix, 'ocr', { languages: ['eng'] });
      const png = await renderTextPng(['bonjour'], { width: 300 });
      const res = await request(app)
        .post('/v1/jobs')
        .attach('files', png, 'a.png')
        .field('options', JSON.stringify({ languages: ['eng', 'fra'] }))
        .expect(400);
      expect(res.body.error).toMatchObject({ code: 'bad_request', details: { missing: ['fra'], installed: ['eng'] } });
      expect(res.body.error.message).toContain('"fra" not installed');
      await request(app)
        .post('/v1/jobs')
        .attach('files', png, 'a.png')
        .field('options', JSON.stringify({ languages: ['eng'] }))
        .expect(202);
    });

    it('refuses a pipeline whose first step cannot read a file', async () => {
      const png = await renderTextPng(['hello'], { width: 300 });
      const res = await request(app).post('/v1/jobs').attach('files', png, 'scan.png').field('pipeline', 'nlp').expect(400);
      expect(res.body.error.message).toContain('"scan.png" is image/png');
      expect(res.body.error.details.files).toEqual([{ name: 'scan.png', type: 'image/png' }]);
    });

    it('fails an empty file alone as empty_document', async () => {
      const res = await request(app)
        .post('/v1/jobs')
        .attach('files', Buffer.alloc(0), 'empty.pdf')
        .attach('files', Buffer.from('some text'), 'fine.txt')
        .field('pipeline', 'nlp,validate')
        .expect(202);
      startWorkers();
      await finished(res.body.id);
      const results = await request(app).get(`/v1/jobs/${res.body.id}/results`).expect(200);
      expect(results.body).toMatchObject({ status: 'completed_with_errors', successful: 1, failed: 1 });
      expect(results.body.documents[0]).toMatchObject({ name: 'empty.pdf', status: 'failed', error: { code: 'empty_document' } });
    });

    it('answers 429 with Retry-After while the backlog is over the limit', async () => {
      await submitTexts(3).expect(202); // no workers: these wait
      const busy = appWith({ maxBacklog: 2 });
      const res = await submitTexts(1, {}, busy).expect(429);
      expect(res.headers['retry-after']).toBe('30');
      expect(res.body.error.code).toBe('busy');
    });
  });

  it('takes a 1,000-document job, pages its results and streams them as NDJSON', async () => {
    const submitted = await submitTexts(1000).expect(202);
    const id = submitted.body.id as string;
    startWorkers();
    await finished(id);
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(app)
        .get(`/v1/jobs/${id}/results`)
        .query(cursor ? { cursor } : {})
        .expect(200);
      names.push(...res.body.documents.map((d: { name: string }) => d.name));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(10); // the default page is 100 documents
    expect(names).toHaveLength(1000);
    expect(new Set(names).size).toBe(1000);
    expect(names[0]).toBe('doc-0000.txt');

    const few = await request(app).get(`/v1/jobs/${id}/results`).query({ limit: 7, status: 'completed' }).expect(200);
    expect(few.body.documents).toHaveLength(7);
    expect((await request(app).get(`/v1/jobs/${id}/results`).query({ status: 'failed' }).expect(200)).body).toMatchObject({
      documents: [],
      nextCursor: null,
    });
    await request(app).get(`/v1/jobs/${id}/results`).query({ cursor: 'garbage!' }).expect(400);

    const ndjson = await request(app)
      .get(`/v1/jobs/${id}/results`)
      .query({ format: 'ndjson' })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      });
    expect(ndjson.headers['content-type']).toContain('application/x-ndjson');
    const lines = (ndjson.body as string)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1000);
    expect(lines.every((doc) => doc.status === 'completed' && doc.steps.nlp.wordCount > 0)).toBe(true);
  }, 120_000);

  it('serves one document whole, and its original bytes', async () => {
    const res = await request(app).post('/v1/jobs').attach('files', Buffer.from('plain words here'), 'note.txt').field('pipeline', 'nlp').expect(202);
    startWorkers();
    await finished(res.body.id);
    const [documentId] = await store.getDocumentIds(res.body.id);
    const doc = await request(app).get(`/v1/jobs/${res.body.id}/documents/${documentId}`).expect(200);
    expect(doc.body).toMatchObject({
      documentId,
      name: 'note.txt',
      status: 'completed',
      steps: { nlp: { wordCount: 16, tokens: [] } },
      tasks: { nlp: { status: 'completed', attempts: 1 } },
      failedAttempts: [],
    });
    const original = await request(app).get(`/v1/jobs/${res.body.id}/documents/${documentId}/original`).expect(200);
    expect(original.headers['content-type']).toContain('text/plain');
    expect(original.headers['content-disposition']).toContain('note.txt');
    expect(original.text).toBe('plain words here');
    const hocr = await request(app).get(`/v1/jobs/${res.body.id}/documents/${documentId}/pages/0/hocr`).expect(404);
    expect(hocr.body.error.message).toContain('no OCR result');
    await request(app).get(`/v1/jobs/${res.body.id}/documents/nope`).expect(404);
  });

  it('lists jobs newest first, filtered by status and time, with a cursor', async () => {
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submitTexts(1)).body.id);
    await request(app).post(`/v1/jobs/${ids[1]}/cancel`).expect(202);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(app)
        .get('/v1/jobs')
        .query({ since, limit: 2, ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...res.body.jobs.map((j: { id: string }) => j.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const cancelled = await request(app).get('/v1/jobs').query({ since, status: 'cancelled' }).expect(200);
    expect(cancelled.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[1]]);
    await request(app).get('/v1/jobs').query({ status: 'sleeping' }).expect(400);
  });

  describe('events', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    /** Reads SSE events until `stop` says so or the stream ends; aborts the connection after. */
    async function readStream(url: string, headers: Record<string, string>, stop: (events: { id?: string; event: string }[]) => boolean) {
      const controller = new AbortController();
      const res = await fetch(url, { headers, signal: controller.signal });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const events: { id?: string; event: string; data: string }[] = [];
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = Object.fromEntries(
              block
                .split('\n')
                .filter((l) => !l.startsWith(':') && l.includes(': '))
                .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
            );
            if (fields.event) events.push({ id: fields.id, event: fields.event, data: fields.data ?? '' });
          }
          if (stop(events)) break;
        }
      } finally {
        controller.abort();
      }
      return events;
    }

    it('streams progress in order; a client that reconnects with Last-Event-ID misses nothing', async () => {
      const res = await submitTexts(12);
      const id = res.body.id as string;
      startWorkers(150);
      const first = await readStream(`${base}/v1/jobs/${id}/events`, {}, (events) => events.filter((e) => e.id).length >= 10);
      expect(first[0]!.event).toBe('snapshot');
      const lastId = first.filter((e) => e.id).at(-1)!.id!;
      const second = await readStream(`${base}/v1/jobs/${id}/events`, { 'Last-Event-ID': lastId }, (events) => events.some((e) => e.event === 'end'));
      expect(second.some((e) => e.event === 'snapshot')).toBe(false); // nothing was lost: no snapshot needed
      const received = [...first, ...second].filter((e) => e.id).map((e) => e.id);
      const stored = (await readEvents(redis, store.keys.events(id), '0', 10_000)).map((e) => e.id);
      expect(received).toEqual(stored);
      expect(second.at(-1)).toMatchObject({ event: 'end' });
      expect(JSON.parse(second.at(-1)!.data)).toEqual({ id, status: 'completed' });
      const kinds = new Set([...first, ...second].map((e) => e.event));
      expect([...kinds].sort()).toEqual(['batch', 'document', 'end', 'snapshot', 'step', 'task']);
      // Each task attempt ended with a task event (worker and times, for the timeline), before the job's end.
      const all = [...first, ...second];
      const tasks = all.filter((e) => e.event === 'task').map((e) => JSON.parse(e.data) as Record<string, unknown>);
      const running = all.filter((e) => e.event === 'step' && JSON.parse(e.data).status === 'running');
      expect(tasks).toHaveLength(running.length);
      for (const task of tasks) {
        expect(task).toMatchObject({ status: 'completed', attempt: 1, worker: expect.stringMatching(/ pid \d+ on /) });
        expect(Date.parse(task.queued as string)).toBeLessThanOrEqual(Date.parse(task.started as string));
        expect(Date.parse(task.started as string)).toBeLessThanOrEqual(Date.parse(task.at as string));
      }
      expect(all.findIndex((e) => e.event === 'end')).toBeGreaterThan(all.map((e) => e.event).lastIndexOf('task'));
    }, 60_000);
  });

  it('deletes a finished job at once (409 while it runs), and retention expires old ones', async () => {
    const running = await submitTexts(2);
    await request(app).delete(`/v1/jobs/${running.body.id}`).expect(409);
    startWorkers();
    await finished(running.body.id);
    const [documentId] = await store.getDocumentIds(running.body.id);
    const { blobKey } = (await store.getDocument(documentId!))!;
    expect(await blobs.exists(blobKey)).toBe(true);
    await request(app).delete(`/v1/jobs/${running.body.id}`).expect(204);
    await request(app).get(`/v1/jobs/${running.body.id}`).expect(404);
    expect(existsSync(join(dataDir, 'batches', running.body.id))).toBe(false);
    expect(await queues.get('nlp').getJob(`${documentId}.nlp`)).toBeUndefined();
    expect(await redis.keys(`${prefix}:doc:${documentId}*`)).toEqual([]);

    const old = await submitTexts(1);
    await finished(old.body.id);
    const deps = { redis, store, queues, blobs, logger, retentionHours: 1 };
    expect(await sweepExpired(deps, Date.now())).toBe(0); // not an hour old yet
    expect(await sweepExpired(deps, Date.now() + 3_600_001)).toBeGreaterThanOrEqual(1);
    await request(app).get(`/v1/jobs/${old.body.id}`).expect(404);
  });
});
