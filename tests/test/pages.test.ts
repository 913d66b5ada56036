import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { Queue } from 'bullmq';
import type { Browser } from 'playwright-core';
import { recordKeys } from '@docproc/batches';
import { queueName } from '@docproc/catalog';
import { dryRunBackend, startAutoscaler } from '@docproc/autoscaling';
import { loadConfig } from '@docproc/config';
import { readScaling } from '@docproc/pools';
import { createLogger } from '@docproc/runtime';
import { renderTextPng, waitFor, PlatformUnderTest } from '@docproc/testkit';
import { CHROMIUM, hasChromium, launchChromium, screenshotPath } from '../src/browser';

const KEY = 'pages-test-key';
const describeWithBrowser = hasChromium() ? describe : describe.skip;

/**
 * The pages a person opens, in a real headless Chromium: Bull Board, the batch
 * page and its list, and the API docs, behind the API key (HTTP Basic, the key
 * as the password). Screenshots go to tests/output/.
 */
describeWithBrowser('pages in a real browser', () => {
  jest.setTimeout(180_000);
  const platform = new PlatformUnderTest({ DOCPROC_API_KEYS: KEY });
  let browser: Browser;
  let batchId: string;

  beforeAll(async () => {
    browser = await launchChromium();
    // The orchestrator alone first: the batch's tasks wait in the preprocess queue, where the board shows them.
    await platform.start(['orchestrator']);
    const page = (text: string) => renderTextPng([text], { width: 900 });
    batchId = await platform.submit([
      { name: 'invoice-one.png', bytes: await page('Invoice 1001 total 250 EUR') },
      { name: 'letter-two.png', bytes: await page('Dear reader, a short letter') },
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform.stop();
  });

  it('Bull Board refuses a wrong password and no password', async () => {
    // Chromium shows the 401 or, having tried the credentials, gives up on them: refused either way.
    const wrong = await browser.newContext({ httpCredentials: { username: 'docproc', password: 'wrong' } });
    const refused = await (await wrong.newPage()).goto(`${platform.base}/admin/queues`).then(
      (response) => `status ${response?.status()}`,
      (err: Error) => err.message,
    );
    expect(refused).toMatch(/status 401|ERR_INVALID_AUTH_CREDENTIALS/);
    await wrong.close();
    // Without credentials the page answers 401 with a Basic challenge (what makes a browser ask).
    const none = await browser.newContext();
    const response = await none.request.get(`${platform.base}/admin/queues`);
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toMatch(/^Basic/);
    expect(await response.text()).not.toContain('preprocess');
    await none.close();
  });

  it('Bull Board lists every queue, and a task opens showing document, batch, step — not the raw payload', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'docproc', password: KEY } });
    const page = await context.newPage();
    await page.goto(`${platform.base}/admin/queues`);
    for (const queue of ['preprocess', 'ocr', 'nlp', 'validate', 'dead-letter']) {
      await page.getByRole('link', { name: queue, exact: true }).first().waitFor({ timeout: 15_000 });
    }
    await page.screenshot({ path: screenshotPath('bull-board-queues'), fullPage: true });

    await page.goto(`${platform.base}/admin/queues/queue/preprocess?status=prioritized`);
    const task = page.getByText('preprocess · invoice-one.png').first();
    await task.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: screenshotPath('bull-board-preprocess-queue'), fullPage: true });
    const body = await page.locator('body').innerText();
    expect(body).toContain(batchId);
    expect(body).not.toContain('blobKey'); // the formatter, not the raw payload

    const [documentId] = (await platform.documents(batchId)).filter((d) => d.name === 'invoice-one.png').map((d) => d.documentId);
    await page.goto(`${platform.base}/admin/queues/queue/preprocess/${documentId}.preprocess`);
    await page.getByText('invoice-one.png').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: screenshotPath('bull-board-task'), fullPage: true });
    await context.close();
  });

  it('the batch page follows a batch live to its end and draws one bar per task on a row per worker', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'docproc', password: KEY } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${platform.base}/batches/${batchId}`);
    // Opened while the batch waits (no worker yet): nothing drawn, then live as the workers come.
    await expect(page.locator('#batch-status').innerText()).resolves.toBe('queued');
    await page.getByText('No task has started yet').waitFor();
    await platform.start(['worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation']);
    await page.locator('#batch-status', { hasText: /^completed$/ }).waitFor({ timeout: 60_000 });
    await page.locator('main[data-ended="true"]').waitFor();
    await page.waitForTimeout(400); // the last redraw
    // Bull Board sees the workers (their connections' names): one a queue, named as on the tasks
    for (const queue of ['preprocess', 'ocr', 'nlp', 'validate']) {
      const { workers } = (await (await context.request.get(`${platform.base}/admin/queues/api/queues/${queue}/workers`)).json()) as {
        workers: { name: string }[];
      };
      expect(workers.map((w) => w.name)).toEqual([expect.stringMatching(new RegExp(`^${queue}-\\w+_pid_\\d+_on_`))]);
    }

    // Every task attempt in the job's event stream is one bar, keyed the same, on its worker's row.
    const events = await (await fetch(`${platform.base}/v1/jobs/${batchId}/events`, { headers: platform.auth() })).text();
    const tasks = [...events.matchAll(/^event: task\ndata: (.*)$/gm)].map(
      (m) => JSON.parse(m[1]!) as { document: string; step: string; worker: string },
    );
    expect(tasks.length).toBeGreaterThanOrEqual(2 * 4); // two documents through four steps, and OCR's page tasks
    const bars = await page.locator('rect.task').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-key')));
    expect(bars).toHaveLength(tasks.length);
    expect(new Set(bars).size).toBe(tasks.length);
    const workers = new Set(tasks.map((t) => t.worker.split(' ')[0]));
    for (const worker of workers) await expect(page.locator('#timeline text', { hasText: worker }).count()).resolves.toBe(1);
    await expect(page.locator('#documents tbody tr[data-status="completed"]').count()).resolves.toBe(2);
    await page.screenshot({ path: screenshotPath('batch-page'), fullPage: true });

    // A bar followed: its document's bars stand out, their waiting drawn dashed, its row marked.
    await page.locator('rect.task[data-key*="|ocr|"]').first().click();
    await expect(page.locator('#timeline.focus rect.task.chosen').count()).resolves.toBeGreaterThanOrEqual(4);
    await expect(page.locator('#documents tr.selected').count()).resolves.toBe(1);
    await expect(page.locator('#timeline line.wait').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('batch-page-document-chosen'), fullPage: true });

    // Filters by name and status, kept in the address.
    await page.locator('#filter-name').fill('letter');
    await expect(page.locator('#documents tbody tr:not([hidden])').count()).resolves.toBe(1);
    await expect(page.locator('#shown').innerText()).resolves.toBe('1 of 2 documents');
    expect(page.url()).toContain('?q=letter');
    await page.locator('#filter-name').fill('');
    await page.locator('#filter-status').selectOption('failed');
    await expect(page.locator('#shown').innerText()).resolves.toBe('0 of 2 documents');
    await page.goto(`${platform.base}/batches/${batchId}?q=invoice`);
    await expect(page.locator('#documents tbody tr:not([hidden]) .name').innerText()).resolves.toBe('invoice-one.png');
    expect(errors).toEqual([]);
    await context.close();
  });

  it("the batch page clears a document's error when a retry sends it round again, and it completes", async () => {
    // A document that lost its worker twice fails with worker_crashed; `docproc retry` reopens it.
    // The events are the ones the platform writes then (RECORD_STEP's and REOPEN_DOCUMENTS'),
    // put on the batch's stream while the page follows it; the worker then completes it for real.
    const queue = new Queue(queueName('validate'), { connection: platform.redis, prefix: platform.prefix });
    await queue.pause();
    const id = await platform.submit([{ name: 'retried.txt', bytes: Buffer.from('a note read again after a retry') }], { pipeline: 'validate' });
    const [doc] = await platform.documents(id);
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: KEY } });
    const page = await context.newPage();
    await page.goto(`${platform.base}/batches/${id}`);
    const row = page.locator(`tr[data-document="${doc!.documentId}"]`);
    const stream = recordKeys(platform.prefix).events(id);
    const at = () => String(Date.now()); // the stream keeps epoch ms
    await platform.redis.xadd(stream, '*', 'type', 'document', 'document', doc!.documentId, 'status', 'failed', 'code', 'worker_crashed', 'at', at());
    await row.locator('td.error', { hasText: 'worker_crashed' }).waitFor({ timeout: 15_000 });
    await platform.redis.xadd(stream, '*', 'type', 'document', 'document', doc!.documentId, 'status', 'queued', 'at', at());
    await queue.resume();
    await row.locator('span.status.completed').waitFor({ timeout: 60_000 });
    expect(await row.locator('td.error').textContent()).toBe('');
    await page.screenshot({ path: screenshotPath('batch-page-retried') });
    await queue.close();
    await context.close();
  });

  it('/batches lists the batches, filtered by status, each linking to its page', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'docproc', password: KEY } });
    const page = await context.newPage();
    await page.goto(`${platform.base}/`); // the root leads to the list
    expect(new URL(page.url()).pathname).toBe('/batches');
    const row = page.locator(`#batches tr:has(a[href="/batches/${batchId}"])`);
    await expect(row.locator('.status').innerText()).resolves.toBe('completed');
    await page.screenshot({ path: screenshotPath('batches-list'), fullPage: true });
    await page.locator('select[name="status"]').selectOption('failed');
    await page.waitForURL(/status=failed/);
    await expect(page.locator(`a[href="/batches/${batchId}"]`).count()).resolves.toBe(0);
    await page.goto(`${platform.base}/batches?status=completed`);
    await page.locator(`a[href="/batches/${batchId}"]`).click();
    await page.waitForURL(`${platform.base}/batches/${batchId}`);
    // a batch that is not there: a page saying so, with the way back
    const missing = await page.goto(`${platform.base}/batches/no-such-batch`);
    expect(missing!.status()).toBe(404);
    await expect(page.locator('h1').innerText()).resolves.toBe('No batch no-such-batch');
    await expect(page.locator('main a[href="/batches"]').count()).resolves.toBe(1);
    await context.close();

    const wrong = await browser.newContext();
    const refused = await wrong.request.get(`${platform.base}/batches/${batchId}`, {
      headers: { authorization: `Basic ${Buffer.from('docproc:wrong').toString('base64')}` },
    });
    expect(refused.status()).toBe(401);
    await wrong.close();
  });

  it('/docs renders the OpenAPI document with Swagger UI served from the package', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'docproc', password: KEY } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${platform.base}/docs/`);
    await page.getByText('/v1/jobs/{id}/results').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: screenshotPath('api-docs'), fullPage: false });
    expect(requests.every((url) => url.startsWith(platform.base))).toBe(true); // nothing from a CDN
    await context.close();
  });

  it("/autoscaler shows each pool's decision in words and draws desired against actual workers", async () => {
    // A real autoscaler loop (dry-run: it decides over this platform's live workers and changes nothing).
    const config = loadConfig({
      REDIS_URL: platform.redisUrl,
      DOCPROC_KEY_PREFIX: platform.prefix,
      DOCPROC_AUTOSCALE_BACKEND: 'dry-run',
      DOCPROC_AUTOSCALE_INTERVAL: '0.3',
      DOCPROC_HEARTBEAT_MS: '500',
    });
    const logger = createLogger('autoscaler', 'warn');
    const autoscaler = startAutoscaler(config, dryRunBackend(platform.redis, platform.prefix, config.heartbeatMs), logger);
    try {
      await waitFor(async () => ((await readScaling(platform.redis, platform.prefix)).history.length >= 4 ? true : undefined), 15_000, 'four looks');
    } finally {
      await autoscaler.stop();
    }
    const context = await browser.newContext({ httpCredentials: { username: 'docproc', password: KEY } });
    const page = await context.newPage();
    const res = await page.goto(`${platform.base}/autoscaler`);
    expect(res?.status()).toBe(200);
    await expect(page.locator('section.pool h2').allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^preprocess/),
      expect.stringMatching(/^ocr/),
      expect.stringMatching(/^nlp/),
      expect.stringMatching(/^validate/),
    ]);
    expect(await page.locator('text=Backend').innerText()).toMatch(/dry-run/);
    const reasons = await page.locator('.reason').allInnerTexts();
    expect(reasons.every((r) => /^(up|down|steady|held) /.test(r))).toBe(true);
    // Each chart draws its lines: one point per look, a step to "now".
    for (const d of await page.locator('svg.scaling-chart path.actual').evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? ''))) {
      expect(d).toMatch(/^M[\d.]+,[\d.]+( H[\d.]+ V[\d.]+){4,}$/);
    }
    await page.screenshot({ path: screenshotPath('autoscaler-page'), fullPage: true });
    // It stays current without navigating: its content is swapped in place every interval.
    await page.evaluate("window.firstMain = document.querySelector('main')");
    await waitFor(
      async () => ((await page.evaluate("document.querySelector('main') !== window.firstMain")) ? true : undefined),
      15_000,
      'the content swapped',
    );
    expect(await page.evaluate("'firstMain' in window")).toBe(true); // the same document: no reload
    await context.close();

    // A headless capture on virtual time (as page-to-image services take them) settles and
    // writes its screenshot: a page that reloads itself never lets virtual time run out.
    const capture = screenshotPath('autoscaler-page-virtual-time');
    rmSync(capture, { force: true });
    const url = new URL('/autoscaler', platform.base);
    Object.assign(url, { username: 'docproc', password: KEY });
    const chromium = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--virtual-time-budget=30000',
        '--window-size=1200,900',
        `--screenshot=${capture}`,
        url.toString(),
      ],
      { timeout: 90_000, encoding: 'utf8' },
    );
    expect({ status: chromium.status, signal: chromium.signal }).toEqual({ status: 0, signal: null });
    expect(statSync(capture).size).toBeGreaterThan(10_000);
  });
});
