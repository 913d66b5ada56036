import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { BatchStore, StepQueues, taskPolicy } from '@docproc/batches';
import { loadConfig } from '@docproc/config';
import { createLogger, createRedis } from '@docproc/runtime';
import { LocalBlobStore } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix } from '@docproc/testkit';
import { createApp } from '../src/app';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');

describe("tenants' quotas (real Redis)", () => {
  const prefix = testPrefix('quotas');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-quotas-'));
  const keysFile = join(dataDir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify([
      { id: 'acme', tenant: 'acme', roles: ['submit', 'read'], sha256: sha('acme-key') },
      { id: 'globex', tenant: 'globex', roles: ['submit', 'read'], sha256: sha('globex-key') },
      { id: 'ops', tenant: 'platform', roles: ['admin'], sha256: sha('ops-key') },
      { tenant: 'acme', quotas: { documentsPerJob: 2, bytesPerJob: 1000, backlogDocuments: 3, documentsPerDay: 5 } },
      { tenant: '*', quotas: { documentsPerJob: 10 } },
    ]),
  );
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const config = loadConfig({ DOCPROC_API_KEYS_FILE: keysFile }, { redisUrl: TEST_REDIS_URL, keyPrefix: prefix, dataDir });
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const app = createApp({ config, redis, store, queues, blobs: new LocalBlobStore(dataDir), logger: createLogger('test', 'error') });

  afterAll(async () => {
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  const submit = (key: string, documents: number, bytes = 10) => {
    let req = request(app).post('/v1/jobs').set('Authorization', `Bearer ${key}`).field('pipeline', 'nlp');
    for (let i = 0; i < documents; i++) req = req.attach('files', Buffer.alloc(bytes, 'a'), `note-${i}.txt`);
    return req;
  };
  const refusal = (res: request.Response) => ({ status: res.status, code: res.body.error?.code, quota: res.body.error?.details?.quota });

  it('refuses with 413 what one job may not hold, and 429 with Retry-After what is used up for now, naming the quota', async () => {
    expect(refusal(await submit('acme-key', 3))).toEqual({ status: 413, code: 'quota_exceeded', quota: 'documentsPerJob' });
    expect(refusal(await submit('acme-key', 1, 2000))).toEqual({ status: 413, code: 'quota_exceeded', quota: 'bytesPerJob' });

    const first = await submit('acme-key', 2).expect(202);
    const full = await submit('acme-key', 2);
    expect(refusal(full)).toEqual({ status: 429, code: 'quota_exceeded', quota: 'backlogDocuments' });
    expect(full.headers['retry-after']).toBe('30');
    expect(full.body.error.message).toMatch(/2 documents are accepted and not ended; 2 more would pass 3 \(tenant acme's quota backlogDocuments\)/);

    // the backlog frees as documents end (here: cancelled); the day's count stays
    await request(app).post(`/v1/jobs/${first.body.id}/cancel`).set('Authorization', 'Bearer acme-key').expect(202);
    await submit('acme-key', 2).expect(202);
    const jobs = await request(app).get('/v1/jobs').set('Authorization', 'Bearer acme-key').expect(200);
    for (const job of jobs.body.jobs) await request(app).post(`/v1/jobs/${job.id}/cancel`).set('Authorization', 'Bearer acme-key');
    const day = await submit('acme-key', 2);
    expect(refusal(day)).toEqual({ status: 429, code: 'quota_exceeded', quota: 'documentsPerDay' });
    expect(Number(day.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(day.headers['retry-after'])).toBeLessThanOrEqual(86_400);
    await submit('acme-key', 1).expect(202); // the fifth of the day

    // a tenant without an entry of its own has the * entry's; the other tenant is not held back by acme's
    expect(refusal(await submit('globex-key', 11))).toEqual({ status: 413, code: 'quota_exceeded', quota: 'documentsPerJob' });
    await submit('globex-key', 3).expect(202);
  });

  it("shows each tenant's use and refusals in /api/stats and /metrics", async () => {
    const stats = await request(app).get('/api/stats').set('Authorization', 'Bearer ops-key').expect(200);
    expect(stats.body.tenants.acme).toEqual({
      backlogDocuments: 1,
      documentsToday: 5,
      quotas: { documentsPerJob: 2, bytesPerJob: 1000, backlogDocuments: 3, documentsPerDay: 5 },
      refusals: { documentsPerJob: 1, bytesPerJob: 1, backlogDocuments: 1, documentsPerDay: 1 },
    });
    expect(stats.body.tenants.globex).toMatchObject({ backlogDocuments: 3, documentsToday: 3, quotas: { documentsPerJob: 10 } });
    const metrics = await request(app).get('/metrics').set('Authorization', 'Bearer ops-key').expect(200);
    expect(metrics.text).toContain('docproc_quota_refusals_total{tenant="acme",quota="documentsPerDay"} 1');
    expect(metrics.text).toContain('docproc_tenant_backlog_documents{tenant="globex"} 3');
    expect(metrics.text).toContain('docproc_tenant_documents_today{tenant="acme"} 5');
  });
});
