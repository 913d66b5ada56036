import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { JobOptions, OcrResult } from '@docproc/catalog';
import { loadConfig } from '@docproc/config';
import { readPdf } from '@docproc/media';
import { characterErrorRate, corpusAvailable, corpusFile, makePdf, renderTextPng, stepContext } from '@docproc/testkit';
import { OrientationDetector, preprocess, preprocessSettings } from '@docproc/worker-preprocessing';
import { TesseractEngine, combineDocument, ocrPage, ocrSettings, searchablePdf, type PageText } from '@docproc/worker-ocr';

const config = loadConfig({});
const dir = mkdtempSync(join(tmpdir(), 'docproc-searchable-'));

const PROSE = [
  'The harbour authority met on 14 March 2024 to review',
  'the lighthouse budget and the dredging programme.',
  'Revenue rose by 12.5 percent while costs fell slightly.',
];

interface Box {
  word: string;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

/** Words and their boxes (points from the page's top-left) as poppler's pdftotext extracts them. */
function pdfWords(pdf: Buffer, page = 1): Box[] {
  const html = execFileSync('pdftotext', ['-bbox', '-f', String(page), '-l', String(page), writeTemp(pdf), '-'], { encoding: 'utf8' });
  return [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({
    word: m[5]!,
    xMin: Number(m[1]),
    yMin: Number(m[2]),
    xMax: Number(m[3]),
    yMax: Number(m[4]),
  }));
}

/** The text pdftotext reads from a PDF. */
function pdfText(pdf: Buffer): string {
  return execFileSync('pdftotext', [writeTemp(pdf), '-'], { encoding: 'utf8' });
}

/**
 * Each of `words`, where the PDF's text layer puts it, is what the page shows there (give or
 * take `slack` points up and down: a skewed line's words lie level through its middle): the page
 * is rendered (pdftoppm, as a reader draws it), the word's box cut out with a margin, and
 * native Tesseract reads the cut-out.
 */
async function expectShownWhereFound(pdf: Buffer, words: string[], slack = 0): Promise<void> {
  const dpi = 200;
  const prefix = join(dir, `r${Date.now()}`);
  execFileSync('pdftoppm', ['-r', String(dpi), '-gray', '-png', '-f', '1', '-l', '1', '-singlefile', writeTemp(pdf), prefix]);
  const page = sharp(readFileSync(`${prefix}.png`));
  const { width, height } = await page.metadata();
  const boxes = pdfWords(pdf);
  for (const word of words) {
    const box = boxes.find((b) => b.word === word);
    expect({ word, inLayer: Boolean(box) }).toEqual({ word, inLayer: true });
    const margin = (box!.yMax - box!.yMin) * 0.6;
    const left = Math.max(0, Math.floor(((box!.xMin - margin) * dpi) / 72));
    const top = Math.max(0, Math.floor(((box!.yMin - margin - slack) * dpi) / 72));
    const cut = await sharp(readFileSync(`${prefix}.png`))
      .extract({
        left,
        top,
        width: Math.min(width! - left, Math.ceil(((box!.xMax - box!.xMin + 2 * margin) * dpi) / 72)),
        height: Math.min(height! - top, Math.ceil(((box!.yMax - box!.yMin + 2 * margin + 2 * slack) * dpi) / 72)),
      })
      .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
      .png()
      .toBuffer();
    const file = join(dir, `c${Date.now()}${Math.random()}.png`);
    writeFileSync(file, cut);
    const shown = execFileSync('tesseract', [file, '-', '--psm', '6', '--dpi', String(dpi)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect({ word, shown: shown.toLowerCase().includes(word.toLowerCase().replace(/[.,]$/, '')) }).toEqual({ word, shown: true });
  }
}

describe('searchable PDFs (options.output: ["pdf"])', () => {
  const engine = new TesseractEngine({ recyclePages: config.ocrRecyclePages, maxMemoryMb: config.ocrMaxMemoryMb });
  const orientation = new OrientationDetector(60_000);
  afterAll(async () => {
    await engine.close();
    await orientation.close();
  });

  /** The document through preprocessing and OCR, as the platform runs them, and its searchable PDF. */
  async function read(document: Buffer, jobOptions: JobOptions = { output: ['pdf'] }): Promise<{ result: OcrResult; pdf: Buffer }> {
    const preCtx = await stepContext('preprocess', document, { jobOptions });
    const pre = await preprocess(preCtx, preprocessSettings(config), orientation);
    const pages: PageText[] = [];
    for (const page of pre.pages) {
      const ctx = await stepContext('ocr', document, {
        jobOptions,
        page: { index: page.index, count: pre.pages.length, source: page },
        blobs: preCtx.blobs,
      });
      pages.push(await ocrPage(ctx, engine, ocrSettings(config)));
    }
    const ctx = await stepContext('ocr', document, {
      jobOptions,
      previous: { preprocess: pre },
      blobs: preCtx.blobs,
      pipeline: ['preprocess', 'ocr'],
    });
    const result = await combineDocument(ctx, pages, engine.name, ocrSettings(config));
    return { result, pdf: result.pdfKey ? await preCtx.blobs.get(result.pdfKey) : Buffer.alloc(0) };
  }

  it('lays the words of a skewed scan over the original page, where they are printed', async () => {
    const scan = await renderTextPng(PROSE, { fontSize: 40, width: 2400, rotate: 4 });
    const { data, info } = await sharp(scan).greyscale().toColourspace('b-w').jpeg({ quality: 90 }).toBuffer({ resolveWithObject: true });
    const document = makePdf([{ kind: 'image', jpeg: data, width: info.width, height: info.height, dpi: 300 }]);
    const { result, pdf } = await read(document);
    expect(result.pdfKey).toBe('batches/batch/documents/doc/results/searchable.pdf');

    // pdftotext reads back what OCR read
    expect(characterErrorRate(pdfText(pdf).replace(/\s+/g, ' ').trim(), result.text.replace(/\s+/g, ' ').trim())).toBeLessThan(0.02);
    expect(characterErrorRate(pdfText(pdf).replace(/\s+/g, ' ').trim(), PROSE.join(' '))).toBeLessThan(0.03);
    // the original page, untouched: its scan still in it, byte for byte
    expect(pdf.includes(data)).toBe(true);
    // each word where the scan shows it; the 4-degree lines, about 370 points long, are laid level
    // through their middles, so a word at a line's end is up to 370 / 2 x sin 4° = 13 points off
    await expectShownWhereFound(pdf, ['harbour', 'authority', 'lighthouse', 'dredging', 'Revenue', 'slightly.'], 14);
    // and the PDF is sound: qpdf finds nothing wrong, Ghostscript renders it, pdf.js reads its layer
    expect(execFileSync('qpdf', ['--check', writeTemp(pdf)], { encoding: 'utf8' })).toMatch(/No syntax or stream encoding errors/);
    execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=nullpage', writeTemp(pdf)]);
    const layer = [];
    for await (const p of readPdf(
      pdf,
      { dpi: 72, textLayer: 'use', languages: ['eng'] },
      { maxPages: 5, maxPagePixels: 1e7, maxImagePixels: 1e8, pageTimeoutMs: 30_000 },
    )) {
      layer.push(p.text ?? '');
    }
    expect(layer.join(' ')).toContain('lighthouse');
  });

  it('places the words of a photo of a page on a page of its size, from its resolution', async () => {
    const photo = await sharp(await renderTextPng(PROSE, { fontSize: 36, width: 2000 }))
      .withMetadata({ density: 200 })
      .png()
      .toBuffer();
    const { pdf } = await read(photo);
    const size = execFileSync('pdfinfo', [writeTemp(pdf)], { encoding: 'utf8' });
    const meta = await sharp(photo).metadata();
    const [w, h] = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(size)!.slice(1).map(Number);
    expect(Math.abs(w! - (meta.width! * 72) / 200)).toBeLessThan(1);
    expect(Math.abs(h! - (meta.height! * 72) / 200)).toBeLessThan(1);
    await expectShownWhereFound(pdf, ['harbour', 'lighthouse', 'Revenue']);
  });

  it('leaves a page with its own trustworthy text layer as it was, and adds a layer only to the scanned one', async () => {
    const scan = await renderTextPng(['A scanned page about lighthouses'], { fontSize: 40, width: 1800 });
    const { data, info } = await sharp(scan).greyscale().toColourspace('b-w').jpeg().toBuffer({ resolveWithObject: true });
    const document = makePdf([
      { kind: 'text', lines: ['Typeset minutes of the harbour board'] },
      { kind: 'image', jpeg: data, width: info.width, height: info.height, dpi: 300 },
    ]);
    const { pdf } = await read(document);
    const pages = pdfText(pdf).split('\f');
    expect(pages[0]!.trim()).toBe('Typeset minutes of the harbour board');
    expect(pages[1]).toMatch(/scanned page about lighthouses/);
  });

  // (a full-page scan through tesseract.js, on a machine that may be busy: three minutes)
  (corpusAvailable() ? it : it.skip)(
    'makes skew.pdf from the corpus searchable: pdftotext gives back the OCR text',
    async () => {
      const original = readFileSync(corpusFile('skew.pdf'));
      const { result, pdf } = await read(original);
      // every word OCR read is in the PDF's text (pdftotext orders a page's bullets and columns its own way)
      expect(sharedWords(pdfText(pdf), result.text)).toBeGreaterThan(0.98);
      expect(pdfText(pdf)).toMatch(/LinnSequencer/);
      expect(execFileSync('qpdf', ['--check', writeTemp(pdf)], { encoding: 'utf8' })).toMatch(/No syntax or stream encoding errors/);
    },
    180_000,
  );

  it('carries text in any script: Greek, Cyrillic, Arabic, Chinese and Latin come back from pdftotext and Ghostscript', async () => {
    const image = await renderTextPng(['placeholder line one', 'placeholder line two'], { fontSize: 40, width: 1600 });
    const words = ['Καλημέρα', 'κόσμε', 'Привет', 'мир', 'مرحبا', '你好世界', 'Ærøskøbing', '€12,50', 'naïve', 'Œuvre'];
    const page = {
      index: 0,
      blobKey: 'p0',
      width: 1600,
      height: 300,
      rotation: 0,
      skewAngle: 0,
      despeckled: false,
      dpi: 300,
      text: null,
      textScore: null,
    };
    const ocr: OcrResult = {
      text: words.join(' '),
      confidence: 90,
      engine: 'test',
      languages: ['eng'],
      pages: [
        {
          index: 0,
          text: words.join(' '),
          confidence: 90,
          source: 'ocr',
          words: words.map((text, i) => ({
            text,
            confidence: 90,
            bbox: { x0: 20 + (i % 5) * 300, y0: i < 5 ? 40 : 140, x1: 260 + (i % 5) * 300, y1: i < 5 ? 90 : 190 },
          })),
        },
      ],
    };
    const pdf = await searchablePdf(image, { mediaType: 'image/png', pages: [page] }, ocr);
    const text = pdfText(pdf);
    for (const word of words) expect(text).toContain(word);
    expect(text).not.toContain('?');
    const gs = execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=txtwrite', '-sOutputFile=-', writeTemp(pdf)], {
      encoding: 'utf8',
    });
    for (const word of ['Καλημέρα', 'Привет', '你好世界', 'Ærøskøbing']) expect(gs).toContain(word);
    expect(execFileSync('qpdf', ['--check', writeTemp(pdf)], { encoding: 'utf8' })).toMatch(/No syntax or stream encoding errors/);
  });

  // (plain pdftotext orders columns by poppler's own analysis — it reads the born-digital
  // two-column page of testkit's structuredDocument paragraph by paragraph across the columns too)
  it('writes lines in reading order: in content order (pdftotext -raw, as a viewer copies), two columns one after the other', async () => {
    const story = (name: string) =>
      Array.from({ length: 8 }, (_, i) => `${name} story line ${['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'][i]} reads on`);
    const left = await renderTextPng(story('Left'), { fontSize: 40, width: 1000 });
    const right = await renderTextPng(story('Right'), { fontSize: 40, width: 1000 });
    const height = (await sharp(left).metadata()).height!;
    const page = await sharp({ create: { width: 2300, height: height + 200, channels: 3, background: '#ffffff' } })
      .composite([
        { input: left, left: 50, top: 100 },
        { input: right, left: 1250, top: 100 },
      ])
      .png()
      .toBuffer();
    const { pdf } = await read(page);
    const text = execFileSync('pdftotext', ['-raw', writeTemp(pdf), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    const order = [...story('Left'), ...story('Right')].map((line) => text.indexOf(line));
    expect(order.filter((i) => i < 0)).toEqual([]);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  // (read twice: English, then Dutch, picked from its text)
  (corpusAvailable() ? it : it.skip)(
    'reads the typewriter recipe back line by line with plain pdftotext',
    async () => {
      const { pdf } = await read(readFileSync(corpusFile('typewriter.png')));
      const lines = pdfText(pdf)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      // (read as Dutch, picked from its text: "Linzensoep" or "Linzensoen", one letter either way)
      expect(lines[0]).toMatch(/^I?Linzenso\S{2} .{1,3} la Waterman$/);
      expect(lines.findIndex((l) => /liter water$/.test(l))).toBeLessThan(lines.findIndex((l) => /uien$/.test(l)));
    },
    180_000,
  );

  it('makes no PDF unless asked', async () => {
    const { result } = await read(await renderTextPng(['Nothing more than text, please'], { fontSize: 40 }), {});
    expect(result.pdfKey).toBeUndefined();
  });
});

/** The share of `expected`'s words (letters and digits, any case) found in `text`, each as often. */
function sharedWords(text: string, expected: string): number {
  const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const pool = new Map<string, number>();
  for (const w of words(text)) pool.set(w, (pool.get(w) ?? 0) + 1);
  const wanted = words(expected);
  let found = 0;
  for (const w of wanted) {
    if ((pool.get(w) ?? 0) > 0) {
      found++;
      pool.set(w, pool.get(w)! - 1);
    }
  }
  return wanted.length === 0 ? 1 : found / wanted.length;
}

function writeTemp(bytes: Buffer): string {
  const file = join(dir, `f${Date.now()}${Math.random()}.pdf`);
  writeFileSync(file, bytes);
  return file;
}
