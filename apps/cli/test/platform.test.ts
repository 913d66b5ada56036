import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import {
  TEST_REDIS_URL,
  corpusAvailable,
  corpusExpected,
  corpusFile,
  deletePrefix,
  missingWords,
  renderTextPng,
  testPrefix,
  waitFor,
} from '@docproc/testkit';
import { startPlatform, type Platform, type PlatformApp } from '../src/platform';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface DocumentResult {
  name: string;
  status: string;
  error: { code: string; message: string } | null;
  steps: {
    preprocess: { mediaType: string } | null;
    ocr: { text: string; confidence: number } | null;
    nlp: { language: string; wordCount: number; entities: unknown[] } | null;
    validate: { status: string; reasons: unknown[] } | null;
  };
}

/**
 * The whole platform as `pnpm start` runs it: the orchestrator and the four
 * workers, each its own node process from dist/, on real Redis.
 */
describe('the platform end to end', () => {
  const prefix = testPrefix('e2e');
  const redis = new Redis(TEST_REDIS_URL);
  const exits: string[] = [];
  const logs: string[] = [];
  let platform: Platform;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    platform = startPlatform({
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL: TEST_REDIS_URL,
        DOCPROC_KEY_PREFIX: prefix,
        DOCPROC_DATA_DIR: mkdtempSync(join(tmpdir(), 'docproc-e2e-')),
        DOCPROC_HEARTBEAT_MS: '500',
        LOG_LEVEL: 'warn',
      },
      onLine: (app: PlatformApp, line: string) => logs.push(`${app} | ${line}`),
      onExit: (app: PlatformApp, code) => exits.push(`${app} exited with ${code}`),
    });
    await waitFor(async () => (await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false)) || undefined, 30_000, 'the orchestrator');
  }, 40_000);

  afterAll(async () => {
    await platform.stop();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  async function submit(files: { name: string; bytes: Buffer }[], fields: Record<string, string> = {}): Promise<string> {
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([file.bytes]), file.name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }

  async function resultsWhenDone(id: string, timeoutMs: number) {
    await waitFor(
      async () => {
        const status = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null };
        return status.finishedAt ? status : undefined;
      },
      timeoutMs,
      `job ${id}`,
    );
    return (await (await fetch(`${base}/v1/jobs/${id}/results`)).json()) as {
      status: string;
      successful: number;
      failed: number;
      documents: DocumentResult[];
    };
  }

  it('reads a page it rendered itself, through all four steps', async () => {
    const lines = ['Quarterly report of the harbour authority', 'Contact office@harbour.example before 2025-03-31'];
    const id = await submit([{ name: 'rendered.png', bytes: await renderTextPng(lines) }], { options: JSON.stringify({ minConfidence: 70 }) });
    const results = await resultsWhenDone(id, 60_000);
    expect(results.status).toBe('completed');
    const [doc] = results.documents;
    expect(doc!.error).toBeNull();
    expect(missingWords(doc!.steps.ocr!.text, ['Quarterly', 'report', 'harbour', 'authority', 'office@harbour.example'])).toEqual([]);
    expect(doc!.steps.ocr!.confidence).toBeGreaterThan(70);
    expect(doc!.steps.nlp!.language).toBe('eng');
    expect(doc!.steps.nlp!.entities).toEqual(
      expect.arrayContaining([
        { type: 'email', text: 'office@harbour.example', value: 'office@harbour.example' },
        { type: 'date', text: '2025-03-31', value: '2025-03-31' },
      ]),
    );
    expect(doc!.steps.validate).toEqual({ status: 'passed', reasons: [] });
  }, 90_000);

  (corpusAvailable() ? it : it.skip)(
    'returns the corpus images with their expected words, and fails a truncated PNG alone',
    async () => {
      const expected = corpusExpected();
      const names = ['typewriter.png', 'crom.png', 'baiona.png'];
      const files = names.map((name) => ({ name, bytes: readFileSync(corpusFile(name)) }));
      const whole = readFileSync(corpusFile('typewriter.png'));
      files.push({ name: 'truncated.png', bytes: whole.subarray(0, Math.floor(whole.length / 3)) });

      const id = await submit(files);
      const results = await resultsWhenDone(id, 240_000);

      expect(results).toMatchObject({ status: 'completed_with_errors', successful: 3, failed: 1 });
      for (const name of names) {
        const doc = results.documents.find((d) => d.name === basename(name))!;
        expect({ name, status: doc.status, missing: missingWords(doc.steps.ocr!.text, expected[name]!.words!) }).toEqual({
          name,
          status: 'completed',
          missing: [],
        });
      }
      const truncated = results.documents.find((d) => d.name === 'truncated.png')!;
      expect(truncated.status).toBe('failed');
      expect(truncated.error?.code).toBe('corrupt_document');
      expect(truncated.steps).toEqual({ preprocess: null, ocr: null, nlp: null, validate: null });

      // every worker is still up and beating
      const workers = await redis.hgetall(`${prefix}:workers`);
      expect(Object.values(workers).map((w) => JSON.parse(w).step).sort()).toEqual(['nlp', 'ocr', 'preprocess', 'validate']);
      expect(exits).toEqual([]);
    },
    300_000,
  );
});
