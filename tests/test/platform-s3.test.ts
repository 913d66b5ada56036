import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { blobKeys, createS3BlobStore, type BlobStore } from '@docproc/storage';
import {
  S3_TEST_CREDENTIALS,
  TEST_REDIS_URL,
  deletePrefix,
  freePort,
  makePdf,
  missingWords,
  orchestratorReady,
  renderTextPng,
  startS3Server,
  testPrefix,
  waitFor,
  type S3TestServer,
} from '@docproc/testkit';
import { startPlatform, type Platform, type PlatformApp } from '@docproc/supervisor';

/**
 * The platform with its blobs in S3 (DOCPROC_BLOB_STORE=s3) against an S3-protocol server
 * of the test's own: what several machines sharing no disk need.
 */
describe('the platform on S3', () => {
  const prefix = testPrefix('s3');
  const redis = new Redis(TEST_REDIS_URL);
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-s3-e2e-'));
  const logs: string[] = [];
  let s3: S3TestServer;
  let platform: Platform;
  let bucket: BlobStore;
  let base: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Server();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      REDIS_URL: TEST_REDIS_URL,
      DOCPROC_KEY_PREFIX: prefix,
      DOCPROC_DATA_DIR: dataDir,
      DOCPROC_BLOB_STORE: 's3',
      DOCPROC_S3_BUCKET: s3.bucket,
      DOCPROC_S3_PREFIX: 'e2e/',
      DOCPROC_S3_ENDPOINT: s3.endpoint,
      DOCPROC_S3_REGION: 'us-east-1',
      DOCPROC_S3_FORCE_PATH_STYLE: 'true',
      // the standard AWS chain: what a pod gets from a Secret or its role
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      LOG_LEVEL: 'warn',
    };
    platform = startPlatform({
      env: { ...process.env, ...env },
      onLine: (app: PlatformApp, line: string) => logs.push(`${app} | ${line}`),
      onExit: () => undefined,
    });
    bucket = createS3BlobStore({
      bucket: s3.bucket,
      prefix: 'e2e',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      client: { credentials: S3_TEST_CREDENTIALS },
    });
    await orchestratorReady(base);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    bucket?.close();
    await s3?.stop();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('reads an image and a two-page PDF whose bytes live only in the bucket, and removes them with the job', async () => {
    const png = await renderTextPng(['Invoice from the harbour authority', 'Payable before 2025-03-31']);
    const pdf = makePdf([
      { kind: 'text', lines: ['First page of the survey'] },
      { kind: 'text', lines: ['Second page about lighthouses'] },
    ]);
    const form = new FormData();
    form.append('files', new Blob([png]), 'invoice.png');
    form.append('files', new Blob([pdf]), 'survey.pdf');
    const submitted = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };

    await waitFor(
      async () => ((await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
      90_000,
      'the job',
    );
    const results = (await (await fetch(`${base}/v1/jobs/${id}/results`)).json()) as {
      status: string;
      documents: { documentId: string; name: string; error: unknown; steps: { ocr: { text: string } | null } }[];
    };
    expect(results.status).toBe('completed');
    const byName = Object.fromEntries(results.documents.map((doc) => [doc.name, doc]));
    expect(missingWords(byName['invoice.png']!.steps.ocr!.text, ['Invoice', 'harbour', 'authority', '2025-03-31'])).toEqual([]);
    expect(missingWords(byName['survey.pdf']!.steps.ocr!.text, ['First', 'survey', 'Second', 'lighthouses'])).toEqual([]);

    // The bytes are in the bucket, none on the local disk, and the API serves them from there.
    const invoice = byName['invoice.png']!;
    const originalKey = (await redis.hget(`${prefix}:doc:${invoice.documentId}`, 'blobKey'))!;
    expect(originalKey.startsWith(blobKeys.originalsPack(id))).toBe(true); // packed with the batch's other small files
    expect(await bucket.exists(originalKey)).toBe(true);
    expect(await bucket.exists(blobKeys.page(id, invoice.documentId, 0))).toBe(true);
    expect(existsSync(join(dataDir, 'batches'))).toBe(false);
    const original = await fetch(`${base}/v1/jobs/${id}/documents/${invoice.documentId}/original`);
    expect(original.status).toBe(200);
    expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);

    expect((await fetch(`${base}/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await bucket.exists(originalKey)).toBe(false);
    expect(await bucket.exists(blobKeys.page(id, invoice.documentId, 0))).toBe(false);
  }, 120_000);

  it('serves the searchable PDF a job asked for, from the bucket', async () => {
    const form = new FormData();
    form.append('files', new Blob([await renderTextPng(['Searchable minutes of the harbour board'])]), 'minutes.png');
    form.append('options', JSON.stringify({ output: ['pdf'] }));
    const { id } = (await (await fetch(`${base}/v1/jobs`, { method: 'POST', body: form })).json()) as { id: string };
    await waitFor(
      async () => ((await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
      90_000,
      'the job',
    );
    const [doc] = ((await (await fetch(`${base}/v1/jobs/${id}/results`)).json()) as { documents: { documentId: string }[] }).documents;
    const res = await fetch(`${base}/v1/jobs/${id}/documents/${doc!.documentId}/pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain('minutes.pdf');
    const file = join(dataDir, 'minutes.pdf');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    expect(missingWords(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }), ['Searchable', 'minutes', 'harbour', 'board'])).toEqual([]);
    // a document whose job did not ask has none, and says how to get one
    const none = await fetch(`${base}/v1/jobs/${id}/documents/${doc!.documentId}/pdf`.replace(doc!.documentId, 'nope'));
    expect(none.status).toBe(404);
  }, 120_000);

  it('refuses to start, saying why, when the bucket does not exist', async () => {
    const orchestrator = resolve(__dirname, '..', '..', 'apps', 'orchestrator', 'dist', 'main.js');
    const child = spawn(process.execPath, [orchestrator], {
      env: { ...process.env, ...env, PORT: String(await freePort()), DOCPROC_S3_BUCKET: 'no-such-bucket' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((done) => child.once('exit', done));
    expect(code).toBe(78);
    expect(output).toContain(`S3 bucket \\"no-such-bucket\\" at ${s3.endpoint} does not exist`);
  }, 30_000);
});
