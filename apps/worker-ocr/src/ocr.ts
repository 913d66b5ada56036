import { UnsupportedTypeError, type OcrResult } from '@docproc/catalog';
import { decodeImagePages, detectMediaType, IMAGE_TYPES } from '@docproc/media';
import type { StepContext } from '@docproc/runtime';
import type { OcrEngine } from './engine';

/** Mean word confidence over all pages, weighted by words. */
export function meanConfidence(pages: OcrResult['pages']): number {
  let sum = 0;
  let count = 0;
  for (const page of pages) {
    for (const word of page.words) {
      sum += word.confidence;
      count++;
    }
  }
  return count === 0 ? 0 : Math.round((sum / count) * 100) / 100;
}

/** The page images to read: the preprocessed pages, or the original decoded when preprocessing is not in the pipeline. */
async function pageImages(ctx: StepContext): Promise<{ text?: string; images: Buffer[] }> {
  const pre = await ctx.resultOf('preprocess');
  if (pre) {
    if (pre.mediaType === 'text/plain') return { text: (await ctx.blobs.get(ctx.payload.blobKey)).toString('utf8'), images: [] };
    return { images: await Promise.all(pre.pages.map((p) => ctx.blobs.get(p.blobKey))) };
  }
  const bytes = await ctx.blobs.get(ctx.payload.blobKey);
  const type = detectMediaType(bytes);
  if (type === 'text/plain') return { text: bytes.toString('utf8'), images: [] };
  if (type === null || !IMAGE_TYPES.includes(type)) {
    throw new UnsupportedTypeError('OCR without preprocessing reads images only: add preprocess to the pipeline');
  }
  // Decoding with sharp first keeps unreadable bytes away from tesseract.js, which crashes the process on them.
  return { images: (await decodeImagePages(bytes, { normalise: false })).map((p) => p.png) };
}

/** The OCR step: every page through the engine, pages' text joined by form feeds. */
export async function ocr(ctx: StepContext, engine: OcrEngine, defaultLanguages: string[]): Promise<OcrResult> {
  const languages = ctx.payload.options.languages ?? defaultLanguages;
  const { text, images } = await pageImages(ctx);
  if (text !== undefined) {
    return { text, confidence: 100, engine: 'none', languages, pages: [{ index: 0, text, confidence: 100, words: [] }] };
  }
  const pages: OcrResult['pages'] = [];
  for (const [index, png] of images.entries()) {
    const started = Date.now();
    pages.push(await engine.recognize(png, index, { languages }));
    ctx.logger.info('page recognised', { page: index, ms: Date.now() - started });
    await ctx.progress(Math.round(((index + 1) / images.length) * 100));
  }
  return {
    text: pages.map((p) => p.text).join('\f'),
    confidence: meanConfidence(pages),
    engine: engine.name,
    languages,
    pages,
  };
}
