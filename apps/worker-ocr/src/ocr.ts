import {
  EmptyDocumentError,
  IMAGE_TYPES,
  UnsupportedTypeError,
  detectMediaType,
  type JobOptions,
  type OcrResult,
  type PreprocessResult,
} from '@docproc/catalog';
import { decodeImagePages, toPgm } from '@docproc/media';
import type { Config } from '@docproc/config';
import { Stages, type StepContext } from '@docproc/runtime';
import { blobKeys } from '@docproc/storage';
import { assembleLayout, plainTextLayout, readPageLayout, writeLayout, writePageLayout } from '@docproc/layout';
import type { OcrEngine, RecognizeOptions } from './engine';
import { ocrPageLayout } from './page-layout';
import { readPage as readPicked } from './pick-languages';
import { searchablePdf } from './searchable-pdf';

export type PageText = OcrResult['pages'][number];

export interface OcrSettings {
  defaultLanguages: string[];
  pageTimeoutMs: number;
  /** Guards of the OCR-only path (no preprocessing): images larger or longer than this are refused. */
  maxInputPixels: number;
  maxPages: number;
  /** Made for every document unless its job says otherwise (options.output). */
  outputs: OcrOutput[];
  /** With no languages in the job, pick each page's model from its text. */
  pickLanguages: boolean;
}

type OcrOutput = NonNullable<JobOptions['output']>[number];

/** The step's settings, from the config. */
export function ocrSettings(config: Config): OcrSettings {
  return {
    defaultLanguages: config.ocrLanguages,
    pageTimeoutMs: config.pageTimeoutMs,
    maxInputPixels: config.maxInputPixels,
    maxPages: config.maxPages,
    outputs: config.outputs,
    pickLanguages: config.ocrPickLanguages,
  };
}

/**
 * Mean word confidence over the pages OCR read, weighted by words. Pages
 * taken from a PDF text layer have no words: a document read only from its
 * text layer has confidence 100, one with no text at all 0.
 */
export function meanConfidence(pages: OcrResult['pages']): number {
  let sum = 0;
  let count = 0;
  for (const page of pages) {
    for (const word of page.words) {
      sum += word.confidence;
      count++;
    }
  }
  if (count > 0) return Math.round((sum / count) * 100) / 100;
  return pages.some((p) => p.source === 'text-layer' && p.text.trim() !== '') ? 100 : 0;
}

/** Whether this job's pages have their models picked: it names no languages, and picking is on. */
const picks = (ctx: StepContext, settings: OcrSettings) => ctx.payload.options.languages === undefined && settings.pickLanguages;

/** Whether the job asks for `output` (its options, else the platform's default). */
const wants = (ctx: StepContext, settings: OcrSettings, output: OcrOutput) => (ctx.payload.options.output ?? settings.outputs).includes(output);

function recognizeOptions(ctx: StepContext, settings: OcrSettings): RecognizeOptions {
  const { languages, psm, oem, hocr } = ctx.payload.options;
  return { languages: languages ?? settings.defaultLanguages, psm, oem, hocr, timeoutMs: settings.pageTimeoutMs, signal: ctx.signal };
}

/** One page through the engine, or from the PDF's text layer when it has a usable one (and OCR is not forced). */
async function readPage(ctx: StepContext, page: PreprocessResult['pages'][number], engine: OcrEngine, settings: OcrSettings): Promise<PageText> {
  const { index } = page;
  // Preprocessing took the layer only where it could be trusted (or was told to): its score is the confidence.
  if (page.text !== null) {
    const layoutKey = page.layoutKey ? { layoutKey: page.layoutKey } : {};
    return { index, text: page.text, confidence: Math.round((page.textScore ?? 1) * 100), words: [], source: 'text-layer', ...layoutKey };
  }
  if (page.blobKey === null) return { index, text: '', confidence: 0, words: [], source: 'ocr' };
  const started = Date.now();
  const options = { ...recognizeOptions(ctx, settings), dpi: page.dpi };
  const stages = new Stages();
  const pgm = await stages.time('read', async () => toPgm(await ctx.blobs.get(page.blobKey!)));
  const { read, languages } = await stages.time('ocr', () => readPicked(engine, pgm, options, picks(ctx, settings)));
  const result: PageText = { index, text: read.text, confidence: read.confidence, words: read.words, source: 'ocr', languages };
  if (read.hocr !== undefined) {
    result.hocrKey = blobKeys.hocr(ctx.payload.batchId, ctx.payload.documentId, index);
    await ctx.blobs.put(result.hocrKey, read.hocr);
  }
  if (wants(ctx, settings, 'layout')) {
    result.layoutKey = blobKeys.pageLayout(ctx.payload.batchId, ctx.payload.documentId, index);
    const layout = await stages.time('layout', async () => ocrPageLayout(index, pgm, read, page.dpi));
    await writePageLayout(ctx.blobs, result.layoutKey, layout);
  }
  ctx.logger.info('page recognised', { page: index, ms: Date.now() - started, words: read.words.length, engine: engine.name, stages });
  return result;
}

/** The document's layout from its pages' (a page without one, as its text in paragraphs), stored. */
async function withLayout(ctx: StepContext, result: OcrResult): Promise<OcrResult> {
  const started = Date.now();
  const pages = await Promise.all(
    result.pages.map(async (page) =>
      page.layoutKey ? readPageLayout(ctx.blobs, page.layoutKey) : { ...plainTextLayout(page.text).pages[0]!, index: page.index },
    ),
  );
  const layoutKey = blobKeys.layout(ctx.payload.batchId, ctx.payload.documentId);
  const layout = result.pages.length === 0 ? plainTextLayout(result.text) : assembleLayout(pages);
  await writeLayout(ctx.blobs, layoutKey, layout);
  ctx.logger.info('layout made', { pages: pages.length, blocks: layout.pages.reduce((n, p) => n + p.blocks.length, 0), ms: Date.now() - started });
  return { ...result, layoutKey };
}

/** Plain text passes through OCR as one page, certain. */
function plainText(text: string, languages: string[]): OcrResult {
  return { text, confidence: 100, engine: 'none', languages, pages: [{ index: 0, text, confidence: 100, words: [], source: 'text-layer' }] };
}

/**
 * The pages put together: their text in order, joined by form feeds; the languages those
 * pages were read with (most pages' first), or the ones given where no page was OCRed.
 */
export function combinePages(pages: PageText[], engine: string, languages: string[]): OcrResult {
  const ordered = [...pages].sort((a, b) => a.index - b.index);
  const used = new Map<string, number>();
  for (const lang of ordered.flatMap((p) => p.languages ?? [])) used.set(lang, (used.get(lang) ?? 0) + 1);
  const read = [...used].sort((a, b) => b[1] - a[1]).map(([lang]) => lang);
  return {
    text: ordered.map((p) => p.text).join('\f'),
    confidence: meanConfidence(ordered),
    engine,
    languages: read.length > 0 ? read : languages,
    pages: ordered,
  };
}

/**
 * The document's pages put together, and the searchable PDF when the job asks for one
 * (it needs the pages as preprocessing made them, to place the words back on the original).
 */
export async function combineDocument(ctx: StepContext, pages: PageText[], engine: string, settings: OcrSettings): Promise<OcrResult> {
  let result = combinePages(pages, engine, ctx.payload.options.languages ?? settings.defaultLanguages);
  if (wants(ctx, settings, 'layout')) result = await withLayout(ctx, result);
  const pre = await ctx.resultOf('preprocess');
  if (!wants(ctx, settings, 'pdf') || !pre || pre.mediaType === 'text/plain') return result;
  const started = Date.now();
  const pdf = await searchablePdf(await ctx.blobs.get(ctx.payload.blobKey), pre, result);
  const pdfKey = blobKeys.searchablePdf(ctx.payload.batchId, ctx.payload.documentId);
  await ctx.blobs.put(pdfKey, pdf);
  ctx.logger.info('searchable PDF made', { pages: pre.pages.length, bytes: pdf.length, ms: Date.now() - started });
  return { ...result, pdfKey };
}

/** The OCR step for one page of a document (ctx.payload.page, which carries the page as preprocessing made it). */
export async function ocrPage(ctx: StepContext, engine: OcrEngine, settings: OcrSettings): Promise<PageText> {
  const page = ctx.payload.page;
  if (!page) throw new Error('a page task without its page');
  return readPage(ctx, page.source, engine, settings);
}

/**
 * The OCR step for a whole document in one job: plain text, a document
 * without pages, or a pipeline without preprocessing, where OCR decodes the
 * image itself (images only).
 */
export async function ocr(ctx: StepContext, engine: OcrEngine, settings: OcrSettings): Promise<OcrResult> {
  const result = await readDocument(ctx, engine, settings);
  return wants(ctx, settings, 'layout') ? withLayout(ctx, result) : result;
}

async function readDocument(ctx: StepContext, engine: OcrEngine, settings: OcrSettings): Promise<OcrResult> {
  const languages = recognizeOptions(ctx, settings).languages;
  const pre = await ctx.resultOf('preprocess');
  if (pre) {
    if (pre.mediaType === 'text/plain') return plainText((await ctx.blobs.get(ctx.payload.blobKey)).toString('utf8'), languages);
    // Pages are read by page jobs (ocrPage); a whole-document job only comes for a document without any.
    if (pre.pages.length > 0) throw new Error(`the document has ${pre.pages.length} pages: they are read page by page`);
    return combinePages([], engine.name, languages);
  }

  const bytes = await ctx.blobs.get(ctx.payload.blobKey);
  if (bytes.length === 0) throw new EmptyDocumentError();
  const type = detectMediaType(bytes);
  if (type === 'text/plain') return plainText(bytes.toString('utf8'), languages);
  if (type === null || !IMAGE_TYPES.includes(type)) {
    throw new UnsupportedTypeError('OCR without preprocessing reads images only: add preprocess to the pipeline');
  }
  // Decoding with sharp first keeps unreadable bytes away from tesseract.js, which crashes the process on them.
  const decoded = await decodeImagePages(bytes, { normalise: false }, { maxPixels: settings.maxInputPixels, maxPages: settings.maxPages });
  const pages: PageText[] = [];
  for (const image of decoded) {
    ctx.signal.throwIfAborted();
    const pgm = await toPgm(image.png);
    const { read, languages: used } = await readPicked(engine, pgm, recognizeOptions(ctx, settings), picks(ctx, settings));
    const page: PageText = { index: image.index, text: read.text, confidence: read.confidence, words: read.words, source: 'ocr', languages: used };
    if (wants(ctx, settings, 'layout')) {
      page.layoutKey = blobKeys.pageLayout(ctx.payload.batchId, ctx.payload.documentId, image.index);
      await writePageLayout(ctx.blobs, page.layoutKey, ocrPageLayout(image.index, pgm, read, null));
    }
    pages.push(page);
    await ctx.progress(Math.round((pages.length / decoded.length) * 100));
  }
  return combinePages(pages, engine.name, languages);
}
