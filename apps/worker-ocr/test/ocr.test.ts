import { spawnSync } from 'node:child_process';
import {
  CancelledError,
  CorruptDocumentError,
  RetryableError,
  StepTimeoutError,
  UnsupportedTypeError,
  type PreprocessResult,
} from '@docproc/catalog';
import { toPgm } from '@docproc/media';
import { missingWords, renderTextPng, stepContext } from '@docproc/testkit';
import { readTsv } from '../src/engine';
import { NativeTesseractEngine } from '../src/native-engine';
import { loadConfig } from '@docproc/config';
import { combinePages, meanConfidence, ocr, ocrPage, ocrSettings } from '../src/ocr';
import { TesseractEngine } from '../src/tesseract-engine';
import { languageDataDir } from '../src/tessdata';

const config = loadConfig({});
const settings = ocrSettings(config);
const page = (index: number, blobKey: string | null, text: string | null = null): PreprocessResult['pages'][number] => ({
  index,
  blobKey,
  width: 1,
  height: 1,
  rotation: 0,
  skewAngle: 0,
  despeckled: false,
  dpi: null,
  text,
  textScore: null,
});

describe('ocr with tesseract.js (offline language data)', () => {
  const engine = new TesseractEngine({ recyclePages: config.ocrRecyclePages, maxMemoryMb: config.ocrMaxMemoryMb });
  afterAll(() => engine.close());

  it('reads rendered text, with confidence and word boxes', async () => {
    const lines = ['Invoice number 4711 from Example Industries', 'Total amount due within thirty days'];
    const ctx = await stepContext('ocr', await renderTextPng(lines));
    const result = await ocr(ctx, engine, settings);
    expect(missingWords(result.text, lines.join(' ').split(' '))).toEqual([]);
    expect(result.confidence).toBeGreaterThan(80);
    expect(result.engine).toBe('tesseract.js');
    const words = result.pages[0]!.words;
    expect(words.map((w) => w.text)).toContain('Invoice');
    const invoice = words.find((w) => w.text === 'Invoice')!;
    expect(invoice.bbox.x1).toBeGreaterThan(invoice.bbox.x0);
    expect(invoice.confidence).toBeGreaterThan(50);
  });

  it('reads a document without pages as empty, and leaves pages to the page jobs', async () => {
    const previous = (pages: PreprocessResult['pages']) => ({ preprocess: { mediaType: 'application/pdf', pages } });
    const empty = await stepContext('ocr', Buffer.from('unused'), { pipeline: ['preprocess', 'ocr'], previous: previous([]) });
    expect(await ocr(empty, engine, settings)).toMatchObject({ text: '', confidence: 0, pages: [] });
    const paged = await stepContext('ocr', Buffer.from('unused'), { pipeline: ['preprocess', 'ocr'], previous: previous([page(0, 'p0')]) });
    await expect(ocr(paged, engine, settings)).rejects.toThrow('read page by page');
  });

  it('never hands undecodable bytes to tesseract', async () => {
    const png = await renderTextPng(['x'], { width: 800 });
    await expect(ocr(await stepContext('ocr', png.subarray(0, 200)), engine, settings)).rejects.toThrow(CorruptDocumentError);
    await expect(ocr(await stepContext('ocr', Buffer.from([0, 1, 2, 3, 0xff])), engine, settings)).rejects.toThrow(UnsupportedTypeError);
  });

  it('lists its installed languages, and fails a missing one as a server problem (retried), not bad input', async () => {
    expect(languageDataDir('eng')).not.toBeNull();
    expect(languageDataDir('xyz')).toBeNull();
    expect(await engine.languages()).toEqual(['deu', 'eng', 'fra', 'ita', 'nld', 'por', 'spa']); // osd is orientation data, not a language
    const ctx = await stepContext('ocr', await renderTextPng(['hello']), { jobOptions: { languages: ['xyz'] } });
    await expect(ocr(ctx, engine, settings)).rejects.toThrow(RetryableError);
    await expect(ocr(ctx, engine, settings)).rejects.toThrow('OCR language "xyz" is not installed on this worker');
  });

  it('reads one page of a paged document, or takes its PDF text layer unless OCR is forced', async () => {
    const pages = [page(0, null, 'Typeset text from the layer'), page(1, 'p1')];
    const at = async (index: number, forceOcr = false) => {
      const ctx = await stepContext('ocr', Buffer.from('unused'), {
        pipeline: ['preprocess', 'ocr'],
        page: { index, count: 2, source: pages[index]! },
        jobOptions: { forceOcr, hocr: true },
      });
      await ctx.blobs.put('p1', await renderTextPng(['Scanned words on page two']));
      return { ctx, result: await ocrPage(ctx, engine, settings) };
    };
    expect((await at(0)).result).toEqual({ index: 0, text: 'Typeset text from the layer', confidence: 100, words: [], source: 'text-layer' });
    const { ctx, result } = await at(1);
    expect(result.source).toBe('ocr');
    expect(missingWords(result.text, ['Scanned', 'words', 'two'])).toEqual([]);
    expect((await ctx.blobs.get(result.hocrKey!)).toString()).toContain("class='ocr_page'");
    const combined = combinePages([result, (await at(0)).result], 'tesseract.js', ['eng']);
    expect(combined.text.split('\f')[0]).toBe('Typeset text from the layer');
    expect(combined.pages.map((p) => p.index)).toEqual([0, 1]);
  });

  it('stops a page that runs past its time limit, and reads the next one', async () => {
    const png = await renderTextPng(['A page that takes a while to read'.repeat(3)], { width: 3000 });
    await expect(engine.recognize(await toPgm(png), { languages: ['eng'], timeoutMs: 5 })).rejects.toThrow(StepTimeoutError);
    const read = await engine.recognize(await toPgm(await renderTextPng(['Back to work'])), { languages: ['eng'], timeoutMs: 60_000 });
    expect(missingWords(read.text, ['Back', 'work'])).toEqual([]);
  });

  it('stops a page when its task is aborted (a cancel), with the abort reason, and reads the next one', async () => {
    // Many lines, so the page takes seconds to read on any machine and the abort lands mid-page.
    const lines = Array.from({ length: 40 }, (_, i) => `Line ${i} of a page that takes a while to read`);
    const pgm = await toPgm(await renderTextPng(lines, { width: 2000 }));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new CancelledError()), 200);
    await expect(engine.recognize(pgm, { languages: ['eng'], timeoutMs: 60_000, signal: controller.signal })).rejects.toThrow(CancelledError);
    expect(Date.now() - started).toBeLessThan(1500);
    const read = await engine.recognize(await toPgm(await renderTextPng(['Back to work'])), { languages: ['eng'], timeoutMs: 60_000 });
    expect(missingWords(read.text, ['Back', 'work'])).toEqual([]);
  });

  it('stops before reading when the task was aborted while its tesseract.js worker was being made', async () => {
    const fresh = new TesseractEngine({ recyclePages: 10, maxMemoryMb: 100_000 });
    const pgm = await toPgm(await renderTextPng(['Never read']));
    await expect(fresh.recognize(pgm, { languages: ['eng'], timeoutMs: 60_000, signal: AbortSignal.abort(new CancelledError()) })).rejects.toThrow(
      CancelledError,
    );
    const read = await fresh.recognize(await toPgm(await renderTextPng(['Back to work'])), { languages: ['eng'], timeoutMs: 60_000 });
    expect(missingWords(read.text, ['Back', 'work'])).toEqual([]);
    await fresh.close();
  });

  it('replaces its tesseract.js worker after the set number of pages, and goes on reading', async () => {
    const recycling = new TesseractEngine({ recyclePages: 1, maxMemoryMb: 100_000 });
    const created: unknown[] = [];
    const spy = recycling as unknown as { worker: unknown };
    for (const text of ['First page words', 'Second page words']) {
      const read = await recycling.recognize(await toPgm(await renderTextPng([text])), { languages: ['eng'], timeoutMs: 60_000 });
      expect(missingWords(read.text, text.split(' '))).toEqual([]);
      created.push(spy.worker);
    }
    expect(created[0]).not.toBe(created[1]);
    await recycling.close();
  });

  it('takes page segmentation and engine modes from the job', async () => {
    const ctx = await stepContext('ocr', await renderTextPng(['Single line of text']), { jobOptions: { psm: 7, oem: 1 } });
    expect(missingWords((await ocr(ctx, engine, settings)).text, ['Single', 'line'])).toEqual([]);
  });

  it('averages confidence over words, not pages; a text layer alone counts as certain', () => {
    const word = (confidence: number) => ({ text: 'w', confidence, bbox: { x0: 0, y0: 0, x1: 1, y1: 1 } });
    const read = (words: ReturnType<typeof word>[]) => ({ index: 0, text: 'x', confidence: 0, words, source: 'ocr' as const });
    expect(meanConfidence([read([word(90), word(90), word(60)]), read([])])).toBe(80);
    expect(meanConfidence([])).toBe(0);
    expect(meanConfidence([{ index: 0, text: 'typeset', confidence: 100, words: [], source: 'text-layer' }])).toBe(100);
  });

  it('parses Tesseract TSV into words with boxes', () => {
    const tsv =
      'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n4\t1\t1\t1\t1\t0\t10\t20\t300\t40\t-1\t\n5\t1\t1\t1\t1\t1\t10\t20\t90\t40\t96.5\tHello\n5\t1\t1\t1\t1\t2\t110\t20\t80\t40\t-1\t \n';
    expect(readTsv(tsv).words).toEqual([{ text: 'Hello', confidence: 96.5, bbox: { x0: 10, y0: 20, x1: 100, y1: 60 } }]);
  });
});

const hasNativeTesseract = spawnSync('tesseract', ['--version'], { stdio: 'ignore' }).status === 0;

// .ci/run installs Debian's tesseract-ocr; elsewhere the native engine is optional.
(hasNativeTesseract ? describe : describe.skip)('ocr with the native tesseract binary', () => {
  const engine = new NativeTesseractEngine();

  it('reads rendered text with words and boxes, like the default engine', async () => {
    const lines = ['Invoice number 4711 from Example Industries', 'Total amount due within thirty days'];
    const result = await ocr(await stepContext('ocr', await renderTextPng(lines)), engine, settings);
    expect(result.engine).toBe('tesseract');
    expect(missingWords(result.text, lines.join(' ').split(' '))).toEqual([]);
    expect(result.confidence).toBeGreaterThan(80);
    expect(result.pages[0]!.words.find((w) => w.text === 'Invoice')!.bbox.x1).toBeGreaterThan(0);
  });

  it('stops a page past its time limit, and names a missing language', async () => {
    const png = await renderTextPng(['A page that takes a while to read'.repeat(3)], { width: 3000 });
    await expect(engine.recognize(await toPgm(png), { languages: ['eng'], timeoutMs: 5 })).rejects.toThrow(StepTimeoutError);
    await expect(engine.recognize(await toPgm(png), { languages: ['xyz'], timeoutMs: 60_000 })).rejects.toThrow(RetryableError);
  });
});
