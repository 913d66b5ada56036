/**
 * pnpm bench:ocr [pages] — the OCR path against native Tesseract, in one run.
 *
 * N generated letter pages at 300 dpi (default 8; several fonts; known text)
 * are prepared once as the preprocessing step prepares pages (greyscale,
 * normalised PNG) and then read by:
 *   native:        Debian's `tesseract` binary, one page at a time, OMP_THREAD_LIMIT=1;
 *   docproc x1:    one worker-ocr process (the app as `pnpm start` runs it, default
 *                  engine tesseract.js), the pages queued as the platform queues them:
 *                  one BullMQ job per page;
 *   docproc x2:    two worker-ocr processes on the same queue.
 * It prints pages per minute and the character error rate (CER) of each, the
 * ratio of docproc x1 to native and the speedup of two processes over one.
 * Targets (issue 3): ratio >= 0.8, CER no worse than native, speedup >= 1.8.
 *
 * Env: BENCH_PAGES, BENCH_ENGINE (tesseract.js | tesseract: the engine the
 * worker processes use).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { BatchStore, StepQueues, TaskLedger, directRun, handPagesOn, taskPolicy, submitBatch } from '@docproc/batches';
import { loadConfig } from '@docproc/config';
import { toQueuePriority, type OcrResult, type PreprocessResult, type StepPayload } from '@docproc/catalog';
import { finishPage, greyscalePage } from '@docproc/media';
import { createRedis, liveWorkers } from '@docproc/runtime';
import { LocalBlobStore, blobKeys } from '@docproc/storage';
import { readStepResult } from '@docproc/batches';
import { TEST_REDIS_URL, characterErrorRate, deletePrefix, preparedPage, renderTextPng, testPrefix, waitFor } from '@docproc/testkit';

const pageCount = Number(process.argv[2] ?? process.env.BENCH_PAGES ?? 8);
const engine = process.env.BENCH_ENGINE ?? 'tesseract.js';
const WORKER_ENTRY = resolve(__dirname, '..', '..', 'apps', 'worker-ocr', 'dist', 'main.js');
const run = promisify(execFile);

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her ' +
  'she there been one all would their we him when who will more no if out so up said what its about into than them can only ' +
  'other new some could time these two may first then do any like my now over such our man me even most made after also did ' +
  'many before must through back years where much your way well down should because each just those people how too little ' +
  'state good very make world still own see men work long get here between both life being under never day same another know ' +
  'while last might us great old year off come since against go came right used take three committee report budget invoice ' +
  'harbour council treasurer quarterly revenue figures meeting members annual accounts'
).split(' ');
const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono'];

/** Reproducible prose: words, capitals, commas, full stops and numbers, about 60 characters a line. */
function prose(seed: number, lines: number): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: string[] = [];
  let sentenceStart = true;
  for (let l = 0; l < lines; l++) {
    const words: string[] = [];
    while (words.join(' ').length < 52) {
      let word = next() < 0.06 ? String(Math.floor(next() * 2000)) : WORDS[Math.floor(next() * WORDS.length)]!;
      if (sentenceStart) word = word[0]!.toUpperCase() + word.slice(1);
      sentenceStart = false;
      const r = next();
      if (r < 0.08) {
        word += '.';
        sentenceStart = true;
      } else if (r < 0.14) word += ',';
      words.push(word);
    }
    out.push(words.join(' '));
  }
  return out;
}

interface Page {
  /** 8-bit grey PGM, as preprocessing stores a page. */
  pgm: Buffer;
  truth: string;
}

/** A letter page at 300 dpi (2550 px wide), 11-point text, prepared as the preprocessing step prepares pages. */
async function makePage(index: number): Promise<Page> {
  const lines = prose(index + 1, 40);
  const rendered = await renderTextPng(lines, { font: FONTS[index % FONTS.length], fontSize: 46, width: 2550 });
  const grey = await greyscalePage({ kind: 'image', bytes: rendered, page: 0, maxPixels: 1e9 });
  const { pgm } = await finishPage(grey, { turn: 0, straighten: 0, scale: 1, binarize: false });
  return { pgm, truth: lines.join('\n') };
}

/** Debian's tessdata (tesseract-ocr-eng): the "fast" LSTM model. */
const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

/** The bundled "best_int" model of @tesseract.js-data/eng, unpacked where native Tesseract can read it. */
function bundledModelDir(dir: string): string {
  const gz = join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int', 'eng.traineddata.gz');
  const out = join(dir, 'best_int');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'eng.traineddata'), gunzipSync(readFileSync(gz)));
  return out;
}

async function native(pages: Page[], dir: string, tessdataDir: string): Promise<{ seconds: number; texts: string[] }> {
  const texts: string[] = [];
  const started = process.hrtime.bigint();
  for (const [i, page] of pages.entries()) {
    const file = join(dir, `page-${i}.pgm`);
    writeFileSync(file, page.pgm);
    const args = [file, 'stdout', '--tessdata-dir', tessdataDir, '-l', 'eng', '--dpi', '300'];
    const { stdout } = await run('tesseract', args, { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, maxBuffer: 1 << 24 });
    texts.push(stdout);
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, texts };
}

/** `processes` worker-ocr apps on one queue; the pages queued as one document's page jobs. */
async function docproc(pages: Page[], processes: number, tessdataDir?: string): Promise<{ seconds: number; texts: string[] }> {
  const prefix = testPrefix('bench-ocr');
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-bench-ocr-'));
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const config = loadConfig();
  const store = new BatchStore(redis, prefix, config.maxEventsPerJob);
  const queues = new StepQueues(redis, prefix, taskPolicy(config));
  const blobs = new LocalBlobStore(dataDir);
  const env = {
    ...process.env,
    REDIS_URL: TEST_REDIS_URL,
    DOCPROC_KEY_PREFIX: prefix,
    DOCPROC_DATA_DIR: dataDir,
    DOCPROC_OCR_ENGINE: engine,
    LOG_LEVEL: 'warn',
    ...(tessdataDir ? { DOCPROC_TESSDATA_DIR: tessdataDir } : {}),
  };
  const children: ChildProcess[] = Array.from({ length: processes }, () =>
    spawn(process.execPath, [WORKER_ENTRY], { env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  try {
    await waitFor(async () => ((await liveWorkers(redis, prefix, 10_000)).length === processes ? true : undefined), 30_000, 'OCR workers');
    const batchId = randomUUID();
    const documentId = randomUUID();
    const blobKey = blobKeys.original(batchId, documentId);
    const pipeline: StepPayload['pipeline'] = ['preprocess', 'ocr'];
    await submitBatch(store, queues, {
      id: batchId,
      priority: 0,
      pipeline,
      options: {},
      documents: [{ id: documentId, name: 'bench.pdf', blobKey, size: 0 }],
    });
    await queues.get('preprocess').remove(`${documentId}.preprocess`); // the bench plays preprocessing itself
    const pre: PreprocessResult = { mediaType: 'application/pdf', pages: [] };
    for (const [index, page] of pages.entries()) {
      const key = blobKeys.page(batchId, documentId, index);
      await blobs.put(key, page.pgm);
      pre.pages.push(preparedPage(index, { blobKey: key, width: 2550, height: 0 }));
    }
    const payload: StepPayload = { batchId, documentId, step: 'preprocess', pipeline, name: 'bench.pdf', blobKey, options: {} };
    // The workers are up (engine loaded at start-up, as in production); from here on it is the page path
    // production takes: preprocessing hands each page on as one OCR task, then records itself.
    const priority = toQueuePriority(0);
    const started = process.hrtime.bigint();
    await store.setPageCount(documentId, 'ocr', pages.length);
    await handPagesOn(queues, payload, pre.pages, pages.length, priority);
    await new TaskLedger(store, queues).completed(directRun(payload, priority), {
      stored: { resultJson: JSON.stringify(pre) },
      handedOn: pages.length,
    });
    await waitFor(async () => ((await store.getBatch(batchId))?.finishedAt ? true : undefined), 60 * 60_000, 'the OCR of all pages');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const doc = await store.getDocument(documentId);
    if (doc?.status !== 'completed') throw new Error(`the bench document ended ${doc?.status}: ${JSON.stringify(doc?.error)}`);
    const result = (await readStepResult<'ocr'>(blobs, doc.steps.ocr!)) as OcrResult;
    return { seconds, texts: result.pages.map((p) => p.text) };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)))));
    await queues.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync('tesseract', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error('bench:ocr compares with native Tesseract: install it first (Debian/Ubuntu: apt-get install tesseract-ocr)');
    process.exit(1);
  }
  console.log(`OCR benchmark: ${pageCount} generated letter pages at 300 dpi, worker engine ${engine}, Redis ${TEST_REDIS_URL}`);
  const pages = await Promise.all(Array.from({ length: pageCount }, (_, i) => makePage(i)));
  const dir = mkdtempSync(join(tmpdir(), 'docproc-bench-native-'));
  const cer = (texts: string[]) => texts.reduce((sum, text, i) => sum + characterErrorRate(text, pages[i]!.truth), 0) / pages.length;
  const rows: [string, { seconds: number; texts: string[] }][] = [];
  const hasDebianModel = existsSync(join(DEBIAN_TESSDATA, 'eng.traineddata'));
  if (hasDebianModel) rows.push(["native, Debian's fast model", await native(pages, dir, DEBIAN_TESSDATA)]);
  rows.push(['native, bundled best_int model', await native(pages, dir, bundledModelDir(dir))]);
  const model = engine === 'tesseract.js' ? 'best_int' : 'system model';
  rows.push([`docproc x1 (${engine}, ${model})`, await docproc(pages, 1)]);
  rows.push([`docproc x2 (${engine}, ${model})`, await docproc(pages, 2)]);
  if (hasDebianModel && engine === 'tesseract.js') rows.push(["docproc x1, Debian's fast model", await docproc(pages, 1, DEBIAN_TESSDATA)]);
  rmSync(dir, { recursive: true, force: true });

  const perMinute = (seconds: number) => (pages.length / seconds) * 60;
  console.log('');
  console.log('| reader                          | seconds | pages/min | mean CER |');
  console.log('|---------------------------------|--------:|----------:|---------:|');
  for (const [name, { seconds, texts }] of rows) {
    console.log(
      `| ${name.padEnd(31)} | ${seconds.toFixed(1).padStart(7)} | ${perMinute(seconds).toFixed(1).padStart(9)} | ${(cer(texts) * 100).toFixed(2).padStart(7)}% |`,
    );
  }
  const seconds = (name: string) => rows.find(([n]) => n.startsWith(name))?.[1].seconds ?? Number.NaN;
  const nativeDefault = hasDebianModel ? seconds('native, Debian') : seconds('native, bundled');
  console.log(
    `docproc x1 / native (Debian's default model) pages per minute: ${(nativeDefault / seconds('docproc x1 (')).toFixed(2)} (target >= 0.80)`,
  );
  if (engine === 'tesseract.js')
    console.log(`docproc x1 / native, same best_int model: ${(seconds('native, bundled') / seconds('docproc x1 (')).toFixed(2)}`);
  if (hasDebianModel && engine === 'tesseract.js') {
    console.log(`docproc x1 with Debian's fast model / native with it: ${(seconds('native, Debian') / seconds('docproc x1, Debian')).toFixed(2)}`);
  }
  console.log(`speedup of 2 OCR processes over 1: ${(seconds('docproc x1 (') / seconds('docproc x2')).toFixed(2)} (target >= 1.80)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
