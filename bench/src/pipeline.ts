/**
 * pnpm bench:pipeline — scanned PDFs end to end, against the engine's own limit and OCRmyPDF,
 * in one run on this machine:
 *   1. the limit: bare native `tesseract` on the same pages pre-rendered at 300 dpi
 *      (pdftoppm, not timed), one process per core;
 *   2. `ocrmypdf --jobs <cores> --rotate-pages --deskew --optimize 0 --output-type pdf
 *      --skip-text`, a document at a time, where Debian's ocrmypdf is installed;
 *   3. docproc (`docproc up`, pools fixed: one preprocessing worker, one OCR worker per
 *      core; pipeline preprocess → ocr), with tesseract.js and with the native engine.
 * Documents: the corpus's scanned PDFs, generated three-page scans (skewed, upside down,
 * noisy) whose text is known, as JPEG and as 300-dpi 1-bit CCITT G4 (as office and archive
 * scanners write them: libtiff's ppm2tiff, then img2pdf, which keeps the G4 data as it is). It prints pages/min and their ratios, CER on the
 * generated scans, expected corpus words missed, and for docproc the CPU-seconds per
 * page by stage (from the workers' own per-page stage timings) against all the CPU its
 * processes used.
 *
 * Preprocessing runs one page at a time (DOCPROC_CONCURRENCY preprocess=1) so that each
 * stage's CPU is its own.
 *
 * Env: BENCH_SKIP_OCRMYPDF=1, BENCH_ENGINES (default "tesseract.js,tesseract"), BENCH_SET
 * (jpeg: the JPEG scans and the corpus; fax: the G4 scans and the corpus's JBIG2 page; default both).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import {
  CLI,
  PROSE_LINES,
  characterErrorRate,
  corpusAvailable,
  corpusExpected,
  corpusFile,
  faxPdf,
  launch,
  makePdf,
  missingWords,
  processesOf,
  renderTextPng,
  untilReady,
  waitFor,
  whenAllExited,
} from '@docproc/testkit';

const run = promisify(execFile);
const cores = availableParallelism();
const dir = mkdtempSync(join(tmpdir(), 'docproc-bench-pipeline-'));
// the first five of the known lines (the figures in docs/benchmarks.md were measured with these)
const PROSE = PROSE_LINES.slice(0, 5);

interface BenchDocument {
  name: string;
  bytes: Buffer;
  pages: number;
  /** Known text per page (generated scans), or expected words (corpus). */
  truth: { text: string[] } | { words: string[] };
}

async function generatedScan(name: string, pages: { rotate?: number; noise?: number }[]): Promise<BenchDocument> {
  const specs = [];
  for (const page of pages) {
    const png = await renderTextPng(PROSE, { fontSize: 36, width: 2400, ...page });
    const { data, info } = await sharp(png).greyscale().toColourspace('b-w').jpeg({ quality: 85 }).toBuffer({ resolveWithObject: true });
    specs.push({ kind: 'image' as const, jpeg: data, width: info.width, height: info.height, dpi: 300 });
  }
  return { name, bytes: makePdf(specs), pages: pages.length, truth: { text: pages.map(() => PROSE.join('\n')) } };
}

/** The same pages as 300-dpi 1-bit CCITT Group 4, one PDF of them. */
async function faxScan(name: string, pages: { rotate?: number; noise?: number }[]): Promise<BenchDocument> {
  const images = await Promise.all(pages.map((page) => renderTextPng(PROSE, { fontSize: 36, width: 2400, ...page })));
  return { name, bytes: await faxPdf(images), pages: pages.length, truth: { text: pages.map(() => PROSE.join('\n')) } };
}

const SKEWED = [{ rotate: 4 }, { rotate: -3 }, { rotate: 2, noise: 0.01 }];
const TURNED = [{ rotate: 180 }, { rotate: 90 }, {}];
const NOISY = [{ noise: 0.02 }, { noise: 0.03 }, { noise: 0.02, rotate: 1 }];

async function documents(): Promise<BenchDocument[]> {
  const set = process.env.BENCH_SET;
  const docs: BenchDocument[] = [];
  if (set !== 'jpeg') {
    docs.push(await faxScan('g4-skewed.pdf', SKEWED), await faxScan('g4-turned.pdf', TURNED), await faxScan('g4-noisy.pdf', NOISY));
  }
  if (set === 'fax') {
    // the corpus's JBIG2 page, laid askew by its image matrix, as a real office scanner wrote it
    if (corpusAvailable())
      docs.push({
        name: 'skew.pdf',
        bytes: readFileSync(corpusFile('skew.pdf')),
        pages: 1,
        truth: { words: corpusExpected()['skew.pdf']?.words ?? [] },
      });
    return docs;
  }
  docs.push(
    await generatedScan('generated-skewed.pdf', SKEWED),
    await generatedScan('generated-turned.pdf', TURNED),
    await generatedScan('generated-noisy.pdf', NOISY),
  );
  if (corpusAvailable()) {
    const expected = corpusExpected();
    for (const name of ['3small.pdf', 'c02-22.pdf', 'multipage.pdf', 'skew.pdf', 'francais.pdf']) {
      const bytes = readFileSync(corpusFile(name));
      const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [corpusFile(name)], { encoding: 'utf8' }))![1]);
      docs.push({ name, bytes, pages, truth: { words: expected[name]?.words ?? [] } });
    }
  }
  return docs;
}

interface Outcome {
  seconds: number;
  /** Text per document, pages joined. */
  texts: Map<string, string>;
}

/** Accuracy of the texts: mean CER over the generated scans, expected corpus words missed. */
function accuracy(docs: BenchDocument[], texts: Map<string, string>) {
  const rates: number[] = [];
  let missed = 0;
  let expectedWords = 0;
  for (const doc of docs) {
    const text = texts.get(doc.name) ?? '';
    if ('text' in doc.truth) rates.push(characterErrorRate(text.replace(/\s+/g, ' ').trim(), doc.truth.text.join(' ').replace(/\s+/g, ' ').trim()));
    else {
      expectedWords += doc.truth.words.length;
      missed += missingWords(text, doc.truth.words).length;
    }
  }
  return { cer: rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length), missed: `${missed}/${expectedWords}` };
}

/** The limit: every page pre-rendered at 300 dpi, then bare tesseract, one process per core. */
async function bareNative(docs: BenchDocument[]): Promise<Outcome> {
  const pages: { doc: string; file: string }[] = [];
  for (const doc of docs) {
    const pdf = join(dir, doc.name);
    writeFileSync(pdf, doc.bytes);
    execFileSync('pdftoppm', ['-r', '300', '-gray', '-png', pdf, join(dir, `${doc.name}-page`)]);
    for (const file of readdirSync(dir)
      .filter((f) => f.startsWith(`${doc.name}-page`))
      .sort())
      pages.push({ doc: doc.name, file: join(dir, file) });
  }
  const text = new Map<string, string>();
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (next < pages.length) {
        const page = pages[next++]!;
        const { stdout } = await run('tesseract', [page.file, '-', '--dpi', '300'], { env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
        text.set(page.file, stdout);
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const texts = new Map(
    docs.map((d) => [
      d.name,
      pages
        .filter((p) => p.doc === d.name)
        .map((p) => text.get(p.file))
        .join('\f'),
    ]),
  );
  return { seconds, texts };
}

async function ocrmypdf(docs: BenchDocument[]): Promise<Outcome | null> {
  if (process.env.BENCH_SKIP_OCRMYPDF || !(await run('ocrmypdf', ['--version']).catch(() => null))) return null;
  const texts = new Map<string, string>();
  const started = Date.now();
  for (const doc of docs) {
    const input = join(dir, doc.name);
    const sidecar = join(dir, `${doc.name}.txt`);
    await run(
      'ocrmypdf',
      [
        '--jobs',
        String(cores),
        '--rotate-pages',
        '--deskew',
        '--optimize',
        '0',
        '--output-type',
        'pdf',
        '--skip-text',
        '--sidecar',
        sidecar,
        input,
        join(dir, `${doc.name}.ocrmypdf.pdf`),
      ],
      {
        env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      },
    );
    texts.set(doc.name, readFileSync(sidecar, 'utf8'));
  }
  return { seconds: (Date.now() - started) / 1000, texts };
}

/** CPU-seconds (user + system) of the given pids so far, from /proc. */
function cpuSecondsOf(pids: number[]): number {
  const tick = 100;
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime, and cutime, cstime: the exited children (native tesseract runs) too
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / tick;
    } catch {
      // gone
    }
  }
  return total;
}

interface DocprocOutcome extends Outcome {
  cpuSeconds: number;
  stages: Record<string, number>;
}

async function docproc(docs: BenchDocument[], engine: string): Promise<DocprocOutcome> {
  const pools = `preprocess=1,ocr=${cores},nlp=1,validate=1`;
  const platform = await launch([process.execPath, CLI, 'up'], {
    DOCPROC_POOL_MIN: pools,
    DOCPROC_POOL_MAX: pools,
    DOCPROC_OCR_ENGINE: engine,
    // one page at a time per process, so each stage's CPU is its own (pages/min barely moves: OCR is the bottleneck)
    DOCPROC_CONCURRENCY: 'preprocess=1,ocr=1',
    LOG_LEVEL: 'debug',
    DOCPROC_LOG_FORMAT: 'json',
  });
  try {
    await untilReady(platform);
    const base = `http://127.0.0.1:${platform.apiPort}`;
    const pids = () => processesOf(platform).map((p) => Number(p.split(' ')[0]));
    const before = cpuSecondsOf(pids());
    const logFrom = platform.output().length;
    const form = new FormData();
    for (const doc of docs) form.append('files', new Blob([doc.bytes]), doc.name);
    form.append('pipeline', 'preprocess,ocr');
    const started = Date.now();
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      async () => ((await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
      1_800_000,
      'the job',
    );
    const seconds = (Date.now() - started) / 1000;
    const cpuSeconds = cpuSecondsOf(pids()) - before;
    const results = (await (await fetch(`${base}/v1/jobs/${id}/results?limit=1000`)).json()) as {
      documents: { name: string; steps: { ocr: { text: string } | null } }[];
    };
    const texts = new Map(results.documents.map((d) => [d.name, d.steps.ocr?.text ?? '']));
    // the workers' per-page stage timings, summed
    const stages: Record<string, number> = {};
    for (const line of platform.output().slice(logFrom).split('\n')) {
      const json = line.slice(line.indexOf('{'));
      if (!json.includes('"stages"')) continue;
      try {
        const entry = JSON.parse(json) as { service?: string; stages?: Record<string, { cpuMs: number }> };
        const step = entry.service === 'worker-ocr' ? 'ocr' : 'preprocess';
        for (const [stage, time] of Object.entries(entry.stages ?? {}))
          stages[`${step}: ${stage}`] = (stages[`${step}: ${stage}`] ?? 0) + time.cpuMs / 1000;
      } catch {
        // not a log line of ours
      }
    }
    return { seconds, texts, cpuSeconds, stages };
  } finally {
    platform.child.kill('SIGTERM');
    await platform.exited;
    await whenAllExited(platform);
  }
}

async function main() {
  const docs = await documents();
  const pages = docs.reduce((n, d) => n + d.pages, 0);
  process.stdout.write(`${docs.length} documents, ${pages} pages, ${cores} cores\n`);
  const perMinute = (o: Outcome) => (pages / o.seconds) * 60;
  const limit = await bareNative(docs);
  const ocrmy = await ocrmypdf(docs);
  const engines = (process.env.BENCH_ENGINES ?? 'tesseract.js,tesseract').split(',');
  const runs: [string, DocprocOutcome][] = [];
  for (const engine of engines) runs.push([`docproc (${engine})`, await docproc(docs, engine)]);

  const rows: [string, Outcome][] = [
    ['bare native tesseract (the limit)', limit],
    ...(ocrmy ? [['ocrmypdf', ocrmy] as [string, Outcome]] : []),
    ...runs,
  ];
  process.stdout.write('\nrun                                  pages/min  x limit  x ocrmypdf  CER generated  corpus words missed\n');
  for (const [name, outcome] of rows) {
    const a = accuracy(docs, outcome.texts);
    process.stdout.write(
      `${name.padEnd(36)} ${perMinute(outcome).toFixed(1).padStart(9)}  ${(perMinute(outcome) / perMinute(limit)).toFixed(2).padStart(7)}  ${(ocrmy ? (perMinute(outcome) / perMinute(ocrmy)).toFixed(2) : '-').padStart(10)}  ${(a.cer * 100).toFixed(2).padStart(12)} %  ${a.missed.padStart(19)}\n`,
    );
  }
  for (const [name, outcome] of runs) {
    process.stdout.write(`\n${name}: CPU-seconds per page by stage (all its processes: ${(outcome.cpuSeconds / pages).toFixed(2)})\n`);
    const staged = Object.values(outcome.stages).reduce((a, b) => a + b, 0);
    for (const [stage, seconds] of Object.entries(outcome.stages).sort((a, b) => b[1] - a[1])) {
      process.stdout.write(`  ${stage.padEnd(28)} ${(seconds / pages).toFixed(3)}\n`);
    }
    process.stdout.write(`  ${'orchestration and the rest'.padEnd(28)} ${((outcome.cpuSeconds - staged) / pages).toFixed(3)}\n`);
  }
}

void main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
