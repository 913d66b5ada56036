import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordKeys } from '@docproc/batches';
import {
  startFreezableProxy,
  startRedisServer,
  waitFor,
  type FreezableProxy,
  type TestRedisServer,
  PlatformUnderTest,
  documentEnds,
  scanPages,
} from '@docproc/testkit';

const texts = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    name: `letter-${from + i}.txt`,
    bytes: Buffer.from(`Invoice ${from + i}\nDear customer, please pay 120.00 EUR by 12 March 2026 to office@harbour.org.\n`),
  }));

/** The attempts each document's steps took, from their records: a shortage must spend none. */
async function attemptsSpent(platform: PlatformUnderTest, id: string): Promise<number[]> {
  const keys = recordKeys(platform.prefix);
  const attempts: number[] = [];
  for (const doc of await platform.documents(id)) {
    const record = await platform.redis.hgetall(keys.document(doc.documentId));
    for (const [field, value] of Object.entries(record)) if (field.endsWith('.attempts')) attempts.push(Number(value));
  }
  return attempts;
}

async function expectEveryDocumentOnce(platform: PlatformUnderTest, id: string, count: number): Promise<void> {
  const ended = await platform.finished(id, 180_000);
  expect(ended).toMatchObject({ status: 'completed', progress: { completed: count, failed: 0 } });
  const ends = await documentEnds(platform, id);
  expect(ends.size).toBe(count);
  expect([...ends.entries()].filter(([, statuses]) => statuses.length !== 1)).toEqual([]);
}

describe('platform outages with real processes: a full Redis, a full disk, frozen connections, a stop without Redis', () => {
  let platform: PlatformUnderTest | undefined;
  let redis: TestRedisServer | undefined;
  let proxy: FreezableProxy | undefined;
  afterEach(async () => {
    await platform?.stop();
    platform = undefined;
    await proxy?.close(); // after the platform: its connections go through it
    proxy = undefined;
    redis?.admin.disconnect();
    await redis?.stop();
    redis = undefined;
  });

  it('Redis at maxmemory: submit answers 503 store_full with Retry-After, /readyz says why, workers wait without spending attempts, the batch completes once memory is back', async () => {
    redis = await startRedisServer();
    platform = new PlatformUnderTest({ DOCPROC_SHORTAGE_RETRY_MS: '500' }, redis.url);
    await platform.start(['orchestrator', 'worker-nlp', 'worker-validation']);
    await platform.workersUp('validate', 1);
    const id = await platform.submit(texts(60), { pipeline: 'nlp,validate' });
    await waitFor(async () => ((await platform!.status(id)).progress.completed >= 3 ? true : undefined), 60_000, 'some documents done');

    await redis.admin.config('SET', 'maxmemory', '1'); // every write refused from now
    const refused = await fetch(`${platform.base}/v1/jobs`, { method: 'POST', body: formOf(texts(1, 100)) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('store_full');
    const ready = await fetch(`${platform.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/out of memory/);
    await new Promise((resolve) => setTimeout(resolve, 8000)); // many shortage retries' worth
    await redis.admin.config('SET', 'maxmemory', '0');

    await expectEveryDocumentOnce(platform, id, 60);
    expect(new Set(await attemptsSpent(platform, id))).toEqual(new Set([1]));
    expect(platform.logs.some((line) => /the platform is out of space/.test(line))).toBe(true);
  }, 240_000);

  const tmpfs = mkdtempSync(join(tmpdir(), 'docproc-full-disk-'));
  const canMount = (() => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300m', 'tmpfs', tmpfs], { stdio: 'ignore' });
      return true;
    } catch {
      return false; // not root: the full-disk case needs a file system of its own to fill
    }
  })();
  afterAll(() => {
    if (canMount) execFileSync('umount', [tmpfs]);
  });

  (canMount ? it : it.skip)(
    'the data disk full: submit answers 507 storage_full, nothing half-stored is left, workers wait without spending attempts, the batch completes once space is back',
    async () => {
      const dataDir = join(tmpfs, 'data');
      platform = new PlatformUnderTest({ DOCPROC_DATA_DIR: dataDir, DOCPROC_SHORTAGE_RETRY_MS: '500' });
      await platform.start(['orchestrator', 'worker-preprocessing']);
      await platform.workersUp('preprocess', 1);
      const id = await platform.submit(await scanPages(12, 8), { pipeline: 'preprocess' });
      // Fill the disk to its last byte while the pages are being prepared.
      const filler = join(tmpfs, 'filler');
      const chunk = Buffer.alloc(1024 * 1024, 1);
      let size = 0;
      try {
        for (;;) {
          writeFileSync(filler, chunk, { flag: 'a' });
          size += chunk.length;
        }
      } catch {
        // ENOSPC: full
      }
      for (const small of [65536, 4096, 512, 1]) {
        try {
          for (;;) writeFileSync(filler, Buffer.alloc(small, 1), { flag: 'a' });
        } catch {
          // the next smaller piece
        }
      }
      expect(size).toBeGreaterThan(0);
      const refused = await fetch(`${platform.base}/v1/jobs`, { method: 'POST', body: formOf(texts(3, 200)) });
      expect(refused.status).toBe(507);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('storage_full');
      expect((await fetch(`${platform.base}/readyz`)).status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      rmSync(filler);

      await expectEveryDocumentOnce(platform, id, 12);
      expect(new Set(await attemptsSpent(platform, id))).toEqual(new Set([1]));
      // Only the accepted batch has blobs: the refused one left nothing behind.
      const batches = (await platform.redis.zrange(recordKeys(platform.prefix).batches, 0, -1)).sort();
      expect(batches).toEqual([id]);
      expect(blobBatches(dataDir)).toEqual([id]);
    },
    240_000,
  );

  it('a frozen connection (a TCP proxy that stops forwarding without closing) is noticed within 30 s by every app, which connect again; nothing is lost', async () => {
    redis = await startRedisServer();
    proxy = await startFreezableProxy(redis.port);
    platform = new PlatformUnderTest({}, `redis://127.0.0.1:${proxy.port}`);
    await platform.start(['orchestrator', 'worker-nlp', 'worker-validation']);
    await platform.workersUp('validate', 1);
    const id = await platform.submit(texts(40), { pipeline: 'nlp,validate' });
    await waitFor(async () => ((await platform!.status(id)).progress.completed >= 3 ? true : undefined), 60_000, 'some documents done');
    const frozen = proxy.freeze();
    const frozenAt = Date.now();
    expect(frozen).toBeGreaterThan(10); // every app's connections, BullMQ's and the heartbeat threads' among them
    // Each app notices its frozen connections (the default socket timeout) and closes them.
    await waitFor(async () => (proxy!.frozenOpen === 0 ? true : undefined), 30_000, 'every frozen connection noticed');
    expect(Date.now() - frozenAt).toBeLessThan(30_000);
    await expectEveryDocumentOnce(platform, id, 40);
    // And the API answers through new connections.
    expect((await fetch(`${platform.base}/readyz`)).status).toBe(200);
  }, 240_000);

  it('a worker told to stop while Redis is unreachable exits within its drain time', async () => {
    redis = await startRedisServer();
    platform = new PlatformUnderTest({ DOCPROC_DRAIN_MS: '3000' }, redis.url);
    const group = await platform.start(['worker-nlp']);
    await platform.workersUp('nlp', 1);
    const [pid] = group.pids();
    await redis.stop();
    const stoppedAt = Date.now();
    process.kill(pid!, 'SIGTERM');
    await waitFor(async () => (isGone(pid!) ? true : undefined), 20_000, 'the worker to exit');
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    await redis.start();
  }, 60_000);
});

function formOf(files: { name: string; bytes: Buffer }[]): FormData {
  const form = new FormData();
  for (const file of files) form.append('files', new Blob([file.bytes]), file.name);
  return form;
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** The batches that have blobs under the data dir. */
function blobBatches(dataDir: string): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const match = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.exec(entry.name);
      if (entry.isDirectory() && match) found.add(entry.name);
      else if (entry.isDirectory()) walk(join(dir, entry.name));
    }
  };
  walk(dataDir);
  return [...found].sort();
}
