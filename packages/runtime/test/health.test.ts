import { Redis } from 'ioredis';
import { Heartbeat, createLogger, startHealthServer, type HealthChecks } from '@docproc/runtime';
import { TEST_REDIS_URL, deletePrefix, freePort, testPrefix, waitFor } from '@docproc/testkit';

const logger = createLogger('test', 'error');

/** A heartbeat every 100 ms of an OCR worker with nothing to do. */
const idleHeartbeat = (redis: Redis, id: string, prefix: string) =>
  new Heartbeat(redis, prefix, 100, () => ({ id, step: 'ocr', concurrency: 1, processed: 0, failed: 0, active: 0, current: [] }));

describe('health', () => {
  const prefix = testPrefix('health');
  const redis = new Redis(TEST_REDIS_URL);
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('a heartbeat is live while its timer fires and ready while Redis takes it', async () => {
    const beating = idleHeartbeat(redis, 'w1', prefix);
    beating.start();
    await waitFor(async () => (beating.problems().ready === null ? true : undefined), 2000, 'a beat in Redis');
    expect(beating.problems()).toEqual({ live: null, ready: null });
    // Seen from a second later: the timer stopped (a blocked event loop) — neither live nor ready.
    expect(beating.problems(Date.now() + 1000).live).toMatch(/^no heartbeat for \d+ ms/);
    await beating.stop();

    // Redis away (nothing listens where it points): the timer fires, but no beat reaches it — live, not ready.
    const away = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true });
    const lonely = idleHeartbeat(away, 'w2', prefix);
    lonely.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(lonely.problems().live).toBeNull();
    expect(lonely.problems().ready).toMatch(/^Redis has not taken a heartbeat/);
    await lonely.stop();
    away.disconnect();
  });

  it('goes on beating while the worker’s event loop is blocked: slow is not gone', async () => {
    const beating = idleHeartbeat(redis, 'w3', prefix);
    beating.start();
    await waitFor(async () => ((await redis.hget(`${prefix}:workers`, 'w3')) ? true : undefined), 2000, 'a first beat');
    const blockedAt = Date.now();
    while (Date.now() - blockedAt < 3000); // three seconds of CPU on the main thread: no timer of its own fires
    const seen = Date.parse(JSON.parse((await redis.hget(`${prefix}:workers`, 'w3'))!).lastSeen);
    expect(seen).toBeGreaterThan(blockedAt + 1000); // beats from the thread while the loop was held
    await beating.stop();
    expect(await redis.hget(`${prefix}:workers`, 'w3')).toBeNull();
  });

  it('answers /healthz and /readyz with 200 or 503 and the reason', async () => {
    let ready: string | null = null;
    const checks: HealthChecks = { live: () => null, ready: () => ready };
    const port = await freePort();
    const server = startHealthServer(port, '127.0.0.1', checks, logger);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    await waitFor(async () => (await get('/healthz').catch(() => undefined))?.status, 2000, 'the health endpoint');
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
    ready = 'draining: finishing its running tasks before it stops';
    expect(await get('/readyz')).toEqual({ status: 503, body: { status: 'unavailable', reason: ready } });
    expect((await get('/other')).status).toBe(404);
    await server.close();
  });
});
