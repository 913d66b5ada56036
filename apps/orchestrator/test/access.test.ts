import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { BatchStore, StepQueues, recordBatch, recordKeys, taskPolicy } from '@docproc/batches';
import { ROLES, type Role } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import { createLogger, createRedis } from '@docproc/runtime';
import { LocalBlobStore, blobKeys } from '@docproc/storage';
import { TEST_REDIS_URL, deletePrefix, testPrefix } from '@docproc/testkit';
import { operationRoles } from '../src/access';
import { KeyRing, loadAccess } from '../src/api-keys';
import { createApp } from '../src/app';
import { authenticate } from '../src/auth';
import { errorHandler } from '../src/http-error';

interface Key {
  id: string;
  tenant: string;
  roles: Role[];
  secret: string;
}
const key = (id: string, tenant: string, roles: Role[]): Key => ({ id, tenant, roles, secret: `${id}-${randomUUID()}` });

/** Every role alone, a tenant's user with all but admin, another tenant's user, an administrator of a tenant of its own. */
const KEYS = [
  ...ROLES.filter((role) => role !== 'admin').map((role) => key(`acme-${role}`, 'acme', [role])),
  key('acme-user', 'acme', ['submit', 'read', 'review']),
  key('globex-user', 'globex', ['submit', 'read', 'review']),
  key('ops-admin', 'ops', ['admin']),
];
const byId = (id: string) => KEYS.find((k) => k.id === id)!;

type Operation = { method: string; path: string; roles: Role[] };

describe('tenants and roles, over every operation of the OpenAPI document (real Redis)', () => {
  const prefix = testPrefix('access');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-access-'));
  const keysFile = join(dataDir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify(KEYS.map((k) => ({ id: k.id, tenant: k.tenant, roles: k.roles, sha256: createHash('sha256').update(k.secret).digest('hex') }))),
  );
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const config = loadConfig({ DOCPROC_API_KEYS_FILE: keysFile }, { redisUrl: TEST_REDIS_URL, keyPrefix: prefix, dataDir });
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const blobs = new LocalBlobStore(dataDir);
  const app = createApp({ config, redis, store, queues, blobs, logger: createLogger('test', 'error') });
  let server: Server;
  let base = '';
  const operations: Operation[] = [];

  /** A job of acme's with one text document, recorded as the API would (not queued: nothing runs). */
  async function acmeJob(): Promise<{ id: string; documentId: string }> {
    const id = randomUUID();
    const documentId = randomUUID();
    const blobKey = blobKeys.original(id, documentId);
    await blobs.create(blobKey, Buffer.from('an invoice from acme'));
    await recordBatch(store, {
      id,
      tenant: 'acme',
      submittedBy: 'acme-user',
      priority: 0,
      pipeline: ['nlp'],
      options: {},
      documents: [{ id: documentId, name: 'a.txt', blobKey, size: 20 }],
    });
    return { id, documentId };
  }

  async function call(method: string, path: string, secret?: string, basic = false): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (secret) headers.authorization = basic ? `Basic ${Buffer.from(`someone:${secret}`).toString('base64')}` : `Bearer ${secret}`;
    const abort = new AbortController();
    const res = await fetch(`${base}${path}`, { method, headers, signal: abort.signal, redirect: 'manual' });
    // An event stream stays open: its status is the answer.
    const json = res.headers.get('content-type')?.includes('application/json');
    const body = json ? await res.json() : null;
    abort.abort();
    return { status: res.status, body };
  }

  const fill = (path: string, job: { id: string; documentId: string }) =>
    path.replace('{id}', job.id).replace('{documentId}', job.documentId).replace('{index}', '0').replace('{name}', 'invoices');
  const errorMessage = (body: unknown) => (body as { error?: { message?: string } } | null)?.error?.message;

  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const document = (await call('GET', '/openapi.json', byId('acme-read').secret)).body as {
      paths: Record<string, Record<string, { security?: Record<string, Role[]>[] }>>;
    };
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!operation.security || operation.security.length === 0) continue; // /healthz, /readyz
        operations.push({ method: method.toUpperCase(), path, roles: [...new Set(operation.security.flatMap((s) => Object.values(s).flat()))] });
      }
    }
  });

  afterAll(async () => {
    server.close();
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('the document gives every operation but health and readiness its roles', () => {
    expect(operations.length).toBeGreaterThanOrEqual(24);
    for (const operation of operations) expect(operation.roles.length).toBeGreaterThan(0);
  });

  it('every operation: 401 without a key or with a wrong one; 403 for a key without its role; let on with it', async () => {
    const verdicts: string[] = [];
    for (const operation of operations) {
      const job = await acmeJob();
      const path = fill(operation.path, job);
      const anonymous = await call(operation.method, path);
      const wrong = await call(operation.method, path, 'not-a-key');
      if (anonymous.status !== 401 || wrong.status !== 401)
        verdicts.push(`${operation.method} ${operation.path}: ${anonymous.status}/${wrong.status} without a good key`);
      for (const k of KEYS.filter((k) => k.tenant !== 'globex')) {
        const allowed = k.roles.includes('admin') || k.roles.some((role) => operation.roles.includes(role));
        const { status, body } = await call(operation.method, path, k.secret);
        const got =
          status === 403 ? 'refused' : [401, 403].includes(status) || errorMessage(body) === `no job ${job.id}` ? `wrong (${status})` : 'let on';
        if (got !== (allowed ? 'let on' : 'refused'))
          verdicts.push(`${operation.method} ${operation.path} with ${k.id}: ${got}, ${status} ${errorMessage(body) ?? ''}`);
      }
    }
    expect(verdicts).toEqual([]);
  });

  it("another tenant's job is not there, by any route: answered as a job that does not exist", async () => {
    const verdicts: string[] = [];
    const other = byId('globex-user');
    for (const operation of operations.filter((o) => o.path.startsWith('/v1/jobs/{id}'))) {
      const job = await acmeJob();
      const missing = await call(operation.method, fill(operation.path, { ...job, id: randomUUID() }), other.secret);
      const { status, body } = await call(operation.method, fill(operation.path, job), other.secret);
      if (status !== 404 || errorMessage(body) !== `no job ${job.id}` || missing.status !== 404)
        verdicts.push(`${operation.method} ${operation.path}: ${status} ${errorMessage(body) ?? ''}`);
      expect(await store.getBatch(job.id)).toMatchObject({ status: 'queued' }); // untouched
    }
    expect(verdicts).toEqual([]);
  });

  it('lists, reviews and stored definitions are per tenant; an administrator sees every tenant', async () => {
    const job = await acmeJob();
    await redis.zadd(recordKeys(prefix).reviews, Date.now(), `${job.id}/${job.documentId}`);
    const jobsOf = async (k: Key) => ((await call('GET', '/v1/jobs?limit=100', k.secret)).body as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    const reviewsOf = async (k: Key) =>
      ((await call('GET', '/v1/reviews', k.secret)).body as { items: { jobId: string }[] }).items.map((i) => i.jobId);
    expect(await jobsOf(byId('acme-read'))).toContain(job.id);
    expect(await jobsOf(byId('globex-user'))).not.toContain(job.id);
    expect(await jobsOf(byId('ops-admin'))).toContain(job.id);
    expect(await reviewsOf(byId('acme-review'))).toContain(job.id);
    expect(await reviewsOf(byId('globex-user'))).not.toContain(job.id);

    const classifier = (name: string) => ({ name, labels: { invoice: ['invoice total due'], letter: ['dear sir regards'] } });
    const post = (path: string, body: object, k: Key) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/v1/classifiers', classifier('invoices'), byId('acme-user'))).status).toBe(201);
    expect((await call('GET', '/v1/classifiers/invoices', byId('acme-read').secret)).status).toBe(200);
    expect((await call('GET', '/v1/classifiers/invoices', byId('globex-user').secret)).status).toBe(404);
    expect((await post('/v1/classifiers?shared=true', classifier('common'), byId('acme-user'))).status).toBe(403);
    expect((await post('/v1/classifiers?shared=true', classifier('common'), byId('ops-admin'))).status).toBe(201);
    const globexList = (await call('GET', '/v1/classifiers', byId('globex-user').secret)).body as {
      items: { name: string }[];
      shared: { name: string }[];
    };
    expect({ own: globexList.items.map((c) => c.name), shared: globexList.shared.map((c) => c.name) }).toEqual({ own: [], shared: ['common'] });
    expect((await call('GET', '/v1/classifiers/common', byId('globex-user').secret)).status).toBe(200);
    expect((await call('DELETE', '/v1/classifiers/common?shared=true', byId('globex-user').secret)).status).toBe(403);

    // a job naming another tenant's classifier is refused at submit, as one that does not exist
    const form = new FormData();
    form.append('files', new Blob([Buffer.from('some text')]), 'a.txt');
    form.append('pipeline', 'nlp');
    form.append('options', JSON.stringify({ classify: { classifier: 'invoices' } }));
    const refused = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${byId('globex-user').secret}` },
      body: form,
    });
    expect(refused.status).toBe(400);
    expect(errorMessage(await refused.json())).toMatch(/no classifier invoices/);
  });

  it('keeps an audit trail on the job: who submitted, cancelled and retried it', async () => {
    const form = new FormData();
    form.append('files', new Blob([Buffer.from('some text')]), 'a.txt');
    form.append('pipeline', 'nlp');
    const submitted = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${byId('acme-submit').secret}` },
      body: form,
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    expect((await call('POST', `/v1/jobs/${id}/cancel`, byId('acme-user').secret)).status).toBe(202);
    const job = (await call('GET', `/v1/jobs/${id}`, byId('acme-read').secret)).body as {
      tenant: string;
      audit: { action: string; key: string; tenant: string }[];
    };
    expect(job.tenant).toBe('acme');
    expect(job.audit.map(({ action, key, tenant }) => ({ action, key, tenant }))).toEqual([
      { action: 'submitted', key: 'acme-submit', tenant: 'acme' },
      { action: 'cancelled', key: 'acme-user', tenant: 'acme' },
    ]);
  });

  it('pages: Bull Board and the autoscaler need admin; batch pages show a tenant its own', async () => {
    const job = await acmeJob();
    for (const path of ['/admin/queues', '/autoscaler']) {
      expect(`${path} ${(await call('GET', path, byId('acme-user').secret, true)).status}`).toBe(`${path} 403`);
      expect(`${path} ${(await call('GET', path, byId('ops-admin').secret, true)).status}`).toBe(`${path} 200`);
    }
    expect((await call('GET', `/batches/${job.id}`, byId('acme-read').secret, true)).status).toBe(200);
    expect((await call('GET', `/batches/${job.id}`, byId('globex-user').secret, true)).status).toBe(404);
    expect((await call('GET', '/batches', byId('acme-metrics').secret, true)).status).toBe(403);
    expect((await call('GET', '/metrics', byId('acme-metrics').secret)).status).toBe(200);
  });

  it('a route the document does not list cannot be reached', async () => {
    const tiny = express();
    tiny.use(authenticate({ open: true, keys: () => [] }));
    tiny.use(operationRoles({ paths: { '/listed': { get: { security: [{ bearer: ['read'] }], responses: {} } } } }));
    tiny.get('/listed', (_req, res) => void res.json({ ok: true }));
    tiny.get('/unlisted', (_req, res) => void res.json({ ok: true }));
    tiny.use(errorHandler(createLogger('test', 'error')));
    const listening = tiny.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    const at = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
    expect((await fetch(`${at}/listed`)).status).toBe(200);
    expect((await fetch(`${at}/unlisted`)).status).toBe(404);
    listening.close();
  });
});

describe('the API keys file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docproc-keys-'));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const sha = (key: string) => createHash('sha256').update(key).digest('hex');
  const good = { id: 'ci', tenant: 'acme', roles: ['submit'], sha256: sha('k1') };

  it('reads the keys, with DOCPROC_API_KEYS as the default tenant with every role', () => {
    const { keys } = loadAccess({ apiKeysFile: file('good.json', [good]), apiKeys: ['legacy'] });
    expect(keys.map(({ id, tenant, roles }) => ({ id, tenant, roles }))).toEqual([
      { id: 'ci', tenant: 'acme', roles: ['submit'] },
      { id: 'key-1', tenant: 'default', roles: [...ROLES] },
    ]);
  });

  it('takes a changed file without a restart, and keeps the keys it had when the file turns bad', async () => {
    const path = file('ring.json', [good]);
    const errors: string[] = [];
    const ring = new KeyRing({ apiKeysFile: path, apiKeys: [] }, (message) => errors.push(message));
    expect(ring.keys().map((k) => k.id)).toEqual(['ci']);
    await new Promise((r) => setTimeout(r, 1100));
    file('ring.json', [good, { ...good, id: 'second', sha256: sha('k2') }]);
    expect(ring.keys().map((k) => k.id)).toEqual(['ci', 'second']);
    await new Promise((r) => setTimeout(r, 1100));
    file('ring.json', '[{"id": "broken"');
    expect(ring.keys().map((k) => k.id)).toEqual(['ci', 'second']);
    expect(errors).toEqual([expect.stringMatching(/cannot read .* the keys read before stay in use/)]);
    // a file emptied of keys lets nobody in: it never opens the API
    await new Promise((r) => setTimeout(r, 1100));
    file('ring.json', []);
    expect({ open: ring.open, keys: ring.keys() }).toEqual({ open: false, keys: [] });
  });

  it('refuses, naming the entry: a bad role, tenant or digest, an unknown field, a repeated id or key, a file that is not JSON', () => {
    const refused = (content: unknown) => () => loadAccess({ apiKeysFile: file('bad.json', content), apiKeys: [] });
    expect(refused([{ ...good, roles: ['write'] }])).toThrow(/at 0\.roles\.0/);
    expect(refused([{ ...good, tenant: 'Acme' }])).toThrow(/at 0\.tenant: lower-case/);
    expect(refused([{ ...good, sha256: 'k1' }])).toThrow(/at 0\.sha256: the hex SHA-256/);
    expect(refused([{ ...good, key: 'k1' }])).toThrow(/Unrecognized key/);
    expect(refused([good, { ...good, sha256: sha('k2') }])).toThrow(/the id ci is given twice/);
    expect(refused([good, { ...good, id: 'other' }])).toThrow(/other is the same key as another/);
    expect(refused('{not json')).toThrow(/DOCPROC_API_KEYS_FILE: cannot read/);
  });
});
