import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Queue } from 'bullmq';
import { BatchStore, StepQueues, TaskLedger, taskPolicy } from '@docproc/batches';
import { loadConfig, type Config } from '@docproc/config';
import { createLogger, createRedis } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, renderTextPng, testPrefix } from '@docproc/testkit';
import { toQueuePriority } from '@docproc/catalog';
import { createApp } from '../src/app';

describe('orchestrator HTTP API (real Redis)', () => {
  const prefix = testPrefix('api');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-api-'));
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const config = loadConfig({}, { redisUrl: TEST_REDIS_URL, keyPrefix: prefix, dataDir });
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const preprocessQueue = new Queue('preprocess', { connection: redis, prefix });
  let png: Buffer;

  const appWith = (overrides: Partial<Config> = {}) =>
    createApp({
      config: { ...config, ...overrides },
      redis,
      store,
      queues,
      blobs: new LocalBlobStore(dataDir),
      logger: createLogger('test', 'error'),
    });
  const app = appWith();

  beforeAll(async () => {
    png = await renderTextPng(['hello'], { width: 200 });
  });

  afterAll(async () => {
    await preprocessQueue.close();
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('answers health and readiness', async () => {
    const health = await request(app).get('/healthz').expect(200, { status: 'ok' });
    // every answer, errors too, forbids type sniffing, framing and referrers
    for (const res of [health, await request(app).get('/v1/jobs/nope')]) {
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
    }
    await request(app).get('/readyz').expect(200, { status: 'ready' });
  });

  it('queues a batch: one chain per document, first step waiting with its priority', async () => {
    const res = await request(app)
      .post('/v1/jobs')
      .attach('files', png, 'a.png')
      .attach('files', Buffer.from('plain text'), 'b.txt')
      .field('priority', '5')
      .field('options', JSON.stringify({ minConfidence: 70 }))
      .expect(202);
    expect(res.body).toMatchObject({ status: 'queued', totalDocuments: 2 });
    expect(res.headers.location).toBe(`/v1/jobs/${res.body.id}`);
    expect(Date.parse(res.body.createdAt)).not.toBeNaN();

    const status = await request(app).get(res.headers.location!).expect(200);
    expect(status.body).toMatchObject({
      id: res.body.id,
      status: 'queued',
      priority: 5,
      pipeline: ['preprocess', 'ocr', 'nlp', 'validate'],
      progress: { total: 2, completed: 0, failed: 0, percent: 0 },
      startedAt: null,
      finishedAt: null,
    });

    const waiting = await preprocessQueue.getJobs(['prioritized', 'waiting']);
    const ours = waiting.filter((job) => job.data.batchId === res.body.id);
    expect(ours).toHaveLength(2);
    expect(ours[0]!.opts.priority).toBe((await store.getBatch(res.body.id))!.queuePriority);
    expect(ours[0]!.opts.priority).toBeLessThan(toQueuePriority(4)); // priority 5 before any of priority 4
    expect(ours[0]!.data.options).toEqual({ minConfidence: 70 });

    const results = await request(app).get(`/v1/jobs/${res.body.id}/results`).expect(200);
    expect(results.body).toMatchObject({ id: res.body.id, status: 'queued', successful: 0, failed: 0 });
    expect(results.body.documents.map((d: { name: string }) => d.name)).toEqual(['a.png', 'b.txt']);
    expect(results.body.documents[0]).toMatchObject({
      status: 'queued',
      error: null,
      steps: { preprocess: null, ocr: null, nlp: null, validate: null },
    });
    // uploads were moved into the blob store, not left behind
    expect(readdirSync(join(dataDir, 'uploads'))).toEqual([]);
  });

  it('takes "type" as a one-step pipeline', async () => {
    const res = await request(app).post('/v1/jobs').attach('files', png, 'a.png').field('type', 'ocr').expect(202);
    expect((await request(app).get(`/v1/jobs/${res.body.id}`)).body.pipeline).toEqual(['ocr']);
  });

  it.each([
    ['no files', (r: request.Test) => r.field('priority', '1'), 400, 'no documents'],
    ['an unknown step', (r: request.Test) => r.attach('files', Buffer.from('x'), 'x.txt').field('pipeline', 'ocr,translate'), 400, 'unknown step'],
    ['steps out of order', (r: request.Test) => r.attach('files', Buffer.from('x'), 'x.txt').field('pipeline', 'nlp,ocr'), 400, 'order'],
    ['a bad priority', (r: request.Test) => r.attach('files', Buffer.from('x'), 'x.txt').field('priority', '11'), 400, 'priority'],
    ['options that are not JSON', (r: request.Test) => r.attach('files', Buffer.from('x'), 'x.txt').field('options', '{nope'), 400, 'JSON object'],
    [
      'a bad option value',
      (r: request.Test) => r.attach('files', Buffer.from('x'), 'x.txt').field('options', '{"minConfidence":500}'),
      400,
      'invalid values',
    ],
    [
      'both type and pipeline',
      (r: request.Test) => r.attach('files', Buffer.from('x'), 'x.txt').field('type', 'ocr').field('pipeline', 'nlp'),
      400,
      'not both',
    ],
    ['files in another field', (r: request.Test) => r.attach('document', Buffer.from('x'), 'x.txt'), 400, 'field "files"'],
  ])('refuses %s with a JSON 4xx', async (_name, build, status, message) => {
    const res = await build(request(app).post('/v1/jobs')).expect(status);
    expect(res.body.error.code).toBe('bad_request');
    expect(res.body.error.message).toContain(message);
  });

  it('refuses a body that is not multipart', async () => {
    const res = await request(app).post('/v1/jobs').send({ files: [] }).expect(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('refuses too large files and too many files with 413', async () => {
    const small = appWith({ maxUploadBytes: 100, maxDocumentsPerJob: 2 });
    const big = await request(small).post('/v1/jobs').attach('files', Buffer.alloc(200, 1), 'big.bin').expect(413);
    expect(big.body.error.code).toBe('too_large');
    const many = await request(small)
      .post('/v1/jobs')
      .attach('files', Buffer.from('a'), 'a.txt')
      .attach('files', Buffer.from('b'), 'b.txt')
      .attach('files', Buffer.from('c'), 'c.txt')
      .expect(413);
    expect(many.body.error.code).toBe('too_many_files');
  });

  it('answers 404 with JSON for unknown jobs and routes', async () => {
    for (const path of ['/v1/jobs/nope', '/v1/jobs/nope/results']) {
      expect((await request(app).get(path).expect(404)).body.error.code).toBe('not_found');
    }
    expect((await request(app).post('/v1/jobs/nope/cancel').expect(404)).body.error.code).toBe('not_found');
    expect((await request(app).get('/v2/anything').expect(404)).body.error.code).toBe('not_found');
  });

  it('cancels a queued job, and refuses to cancel a finished one', async () => {
    const res = await request(app).post('/v1/jobs').attach('files', png, 'a.png').expect(202);
    const cancelled = await request(app).post(`/v1/jobs/${res.body.id}/cancel`).expect(202);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', progress: { cancelled: 1, percent: 100 } });
    expect(cancelled.body.finishedAt).not.toBeNull();
    // its queued first step is gone from the queue
    expect(await preprocessQueue.getJob(`${(await store.getDocumentIds(res.body.id))[0]}.preprocess`)).toBeUndefined();
    // a second cancel learns the job was already cancelled
    expect((await request(app).post(`/v1/jobs/${res.body.id}/cancel`).expect(409)).body.error.message).toContain('already ended as cancelled');

    const done = await request(app).post('/v1/jobs').attach('files', png, 'a.png').field('type', 'ocr').expect(202);
    const [docId] = await store.getDocumentIds(done.body.id);
    await new TaskLedger(store, queues).record(
      { batchId: done.body.id, documentId: docId!, step: 'ocr' },
      { status: 'completed', attempts: 1, documentStatus: 'completed' },
    );
    const conflict = await request(app).post(`/v1/jobs/${done.body.id}/cancel`).expect(409);
    expect(conflict.body.error.code).toBe('conflict');
  });

  it('answers 409 to a retry of a job with nothing to retry, and to one that was cancelled', async () => {
    const res = await request(app).post('/v1/jobs').attach('files', png, 'a.png').expect(202);
    expect((await request(app).post(`/v1/jobs/${res.body.id}/retry`).expect(409)).body.error.message).toContain('no failed');
    await request(app).post(`/v1/jobs/${res.body.id}/cancel`).expect(202);
    expect((await request(app).post(`/v1/jobs/${res.body.id}/retry`).expect(409)).body.error.message).toContain('cancelled');
  });

  describe('with API keys', () => {
    const keyed = appWith({ apiKeys: ['s3cret', 'other'] });

    it('needs a valid bearer key everywhere but health and readiness', async () => {
      await request(keyed).get('/healthz').expect(200);
      await request(keyed).get('/readyz').expect(200);
      const missing = await request(keyed).get('/v1/jobs/x').expect(401);
      expect(missing.body.error.code).toBe('unauthorized');
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer realm="docproc", Basic realm="docproc"/);
      await request(keyed).get('/v1/jobs/x').set('Authorization', 'Bearer wrong').expect(401);
      await request(keyed).get('/v1/jobs/x').set('Authorization', 'Bearer other').expect(404);
      for (const path of ['/metrics', '/api/stats']) await request(keyed).get(path).expect(401);
    });

    it('takes the key as the password of HTTP Basic (browsers), and asks for Basic on the pages', async () => {
      await request(keyed).get('/v1/jobs/x').auth('anyone', 's3cret').expect(404);
      await request(keyed).get('/v1/jobs/x').auth('anyone', 'wrong').expect(401);
      const page = await request(keyed).get('/admin/queues').expect(401);
      expect(page.headers['www-authenticate']).toMatch(/^Basic realm="docproc"/);
      const board = await request(keyed).get('/admin/queues/api/queues').auth('docproc', 's3cret').expect(200);
      expect(board.body.queues.map((q: { name: string }) => q.name)).toEqual(['preprocess', 'ocr', 'nlp', 'validate', 'dead-letter']);
      expect(board.body.queues[0].readOnlyMode).toBe(false);
    });
  });

  it('shows Bull Board read-only when DOCPROC_BOARD_READ_ONLY is set', async () => {
    const board = await request(appWith({ boardReadOnly: true }))
      .get('/admin/queues/api/queues')
      .expect(200);
    expect(board.body.queues.every((q: { readOnlyMode: boolean; allowRetries: boolean }) => q.readOnlyMode && !q.allowRetries)).toBe(true);
  });
});
