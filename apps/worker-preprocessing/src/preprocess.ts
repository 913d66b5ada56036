import {
  CorruptDocumentError,
  DocumentError,
  EmptyDocumentError,
  IMAGE_TYPES,
  TooLargeError,
  TooManyPagesError,
  UnsupportedTypeError,
  detectMediaType,
  type PreprocessResult,
} from '@docproc/catalog';
import { decodeScan, greyscalePage, imageInfo, readPdf, scannedImages, writtenWithAscenders, type GreyImage, type PdfPage } from '@docproc/media';
import type { Config } from '@docproc/config';
import { Stages, untilStopped, type StepContext } from '@docproc/runtime';
import { blobKeys } from '@docproc/storage';
import { analysePage, linesFromRuns, writePageLayout } from '@docproc/layout';
import type { OrientationDetector } from './orientation';
import { preparePage, type PageSettings } from './prepare-page';

export interface PreprocessSettings extends PageSettings {
  /** Images with more pixels than this are refused before decoding. */
  maxInputPixels: number;
  maxPages: number;
  maxDocumentBytes: number;
  pageTimeoutMs: number;
  /** A text layer's letters are checked against these languages' scripts unless the job names its own. */
  languages: string[];
  /** What every job makes unless it says (options.output): with `layout`, text pages get theirs here. */
  outputs: Config['outputs'];
}

/** The step's settings, from the config. */
export function preprocessSettings(config: Config): PreprocessSettings {
  return {
    targetDpi: config.targetDpi,
    maxPagePixels: config.maxPagePixels,
    maxInputPixels: config.maxInputPixels,
    maxPages: config.maxPages,
    maxDocumentBytes: config.maxDocumentBytes,
    pageTimeoutMs: config.pageTimeoutMs,
    languages: config.ocrLanguages,
    outputs: config.outputs,
    deskew: config.deskew,
    rotatePages: config.detectOrientation,
    uprightFromLines: config.ocrLanguages.every(writtenWithAscenders),
    rotateThreshold: config.rotateThreshold,
    binarize: config.binarize,
  };
}

type StoredPage = PreprocessResult['pages'][number];

/** A page's pixels, or a decoding failure as the document's error. */
async function decoded<T>(page: number, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (err) {
    if (err instanceof DocumentError) throw err;
    throw new CorruptDocumentError(`page ${page + 1} cannot be decoded: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * The preprocessing step: find the document's type from its bytes; for a PDF
 * take each page's usable text layer, render the others (pdf.js); decode
 * every image page (multi-page TIFF included) upright by EXIF; then turn,
 * straighten, scale, normalise each page and store it, recording what was
 * done; each finished page is handed on at once, so its OCR starts while
 * later pages are still being prepared. Plain text passes through with no pages.
 */
export async function preprocess(ctx: StepContext, settings: PreprocessSettings, orientation?: OrientationDetector): Promise<PreprocessResult> {
  const { batchId, documentId, blobKey, options } = ctx.payload;
  const bytes = await ctx.blobs.get(blobKey);
  if (bytes.length === 0) throw new EmptyDocumentError();
  if (bytes.length > settings.maxDocumentBytes) {
    throw new TooLargeError(`the document has ${bytes.length} bytes, more than the limit of ${settings.maxDocumentBytes}`);
  }
  const mediaType = detectMediaType(bytes);
  if (mediaType === 'text/plain') return { mediaType, pages: [] };
  if (mediaType === null || (mediaType !== 'application/pdf' && !IMAGE_TYPES.includes(mediaType))) {
    throw new UnsupportedTypeError('the document is not a PDF, an image (PNG, JPEG, TIFF, WebP, GIF, BMP) or plain text');
  }

  const page: PageSettings = {
    ...settings,
    targetDpi: options.dpi ?? settings.targetDpi,
    deskew: options.deskew ?? settings.deskew,
    rotatePages: options.rotatePages ?? settings.rotatePages,
    uprightFromLines: (options.languages ?? settings.languages).every(writtenWithAscenders),
    binarize: options.binarize ?? settings.binarize,
  };
  const pages: StoredPage[] = [];
  /** A finished page: kept for the result, and handed on so its OCR starts now. */
  const done = async (page: StoredPage, count: number) => {
    pages.push(page);
    await ctx.pageReady(page, count);
    await ctx.progress(Math.round(((page.index + 1) / count) * 100));
  };
  const store = async (
    index: number,
    count: number,
    grey: GreyImage,
    density: { dpi: number; known: boolean } | null,
    extraRotation: number,
    layer: { text: string | null; textScore: number | null },
    stages: Stages,
  ) => {
    const started = Date.now();
    const prepared = await preparePage(grey, density, page, orientation, ctx.signal, stages);
    const key = blobKeys.page(batchId, documentId, index);
    await stages.time('store', () => ctx.blobs.put(key, prepared.pgm));
    await done(
      {
        index,
        blobKey: key,
        width: prepared.width,
        height: prepared.height,
        rotation: (extraRotation + prepared.turn) % 360,
        skewAngle: prepared.skewAngle,
        despeckled: prepared.despeckled,
        dpi: prepared.dpi,
        ...layer,
      },
      count,
    );
    ctx.logger.debug('page prepared', {
      page: index,
      ms: Date.now() - started,
      turn: prepared.turn,
      orientedBy: prepared.orientedBy,
      skew: prepared.skewAngle,
      stages,
    });
  };

  if (mediaType === 'application/pdf') {
    const limits = {
      maxPages: settings.maxPages,
      maxPagePixels: settings.maxPagePixels,
      maxImagePixels: settings.maxInputPixels,
      pageTimeoutMs: settings.pageTimeoutMs,
    };
    // Pages that are one scanned image are decoded here, straight from the image (libjpeg-turbo, zlib); pdf.js renders the rest.
    const scans = await scannedImages(bytes);
    // A document of scans only needs no pdf.js at all (no text layer, nothing to render).
    const onlyScans = scans.length > 0 && scans.every((scan) => scan !== null);
    if (onlyScans && scans.length > settings.maxPages) {
      throw new TooManyPagesError(`the PDF has ${scans.length} pages, more than the limit of ${settings.maxPages}`);
    }
    const pdfPages: AsyncGenerator<PdfPage & { count: number }> = onlyScans
      ? (async function* () {
          for (const [index, scan] of scans.entries()) {
            const { dpi } = scan!;
            const { width, height } = scan!.placement ?? scan!;
            yield {
              index,
              count: scans.length,
              width,
              height,
              dpi,
              widthPt: (width / dpi) * 72,
              heightPt: (height / dpi) * 72,
              text: null,
              textScore: null,
            };
          }
        })()
      : readPdf(
          bytes,
          {
            dpi: page.targetDpi,
            textLayer: options.textLayer ?? (options.forceOcr ? 'ignore' : 'auto'),
            languages: options.languages ?? settings.languages,
            scanPages: scans.flatMap((scan, index) => (scan ? [index] : [])),
            geometry: (options.output ?? settings.outputs).includes('layout'),
          },
          limits,
          ctx.signal,
        );
    for (;;) {
      const stages = new Stages();
      const next = await stages.time('render', () => pdfPages.next());
      if (next.done) break;
      const { index, count, rgba, width, height, dpi, text, textScore, geometry } = next.value;
      const scan = scans[index];
      if (rgba) {
        const grey = await stages.time('decode', () =>
          decoded(index, () => greyscalePage({ kind: 'raw', pixels: rgba, width, height, channels: 4 })),
        );
        await store(index, count, grey, { dpi, known: true }, 0, { text, textScore }, stages);
      } else if (text === null && scan) {
        // the image, and the page it is laid on at the image's resolution
        for (const { width, height } of [scan, scan.placement ?? scan]) {
          if (width * height > settings.maxInputPixels) {
            throw new TooLargeError(
              `page ${index + 1} holds an image of ${width} x ${height} pixels, more than the limit of ${settings.maxInputPixels}`,
            );
          }
        }
        // as for a page pdf.js renders, the page's time limit holds
        const grey = await stages.time('decode', () =>
          untilStopped(
            decoded(index, () => decodeScan(scan, settings.maxInputPixels)),
            {
              signal: ctx.signal,
              timeout: { ms: settings.pageTimeoutMs, message: `page ${index + 1} took longer than ${settings.pageTimeoutMs} ms to decode` },
            },
          ),
        );
        await store(index, count, grey, { dpi: scan.dpi, known: true }, 0, { text, textScore }, stages);
      } else {
        const page: StoredPage = { index, blobKey: null, width, height, rotation: 0, skewAngle: 0, despeckled: false, dpi, text, textScore };
        if (geometry) {
          // a text page's layout is read here, where its text runs and lines are
          page.layoutKey = blobKeys.pageLayout(batchId, documentId, index);
          const lines = linesFromRuns(geometry.runs);
          const layout = analysePage({ index, width, height, source: 'text-layer', lines, rules: geometry.rules, figures: geometry.figures });
          await writePageLayout(ctx.blobs, page.layoutKey, layout);
        }
        await done(page, count);
      }
    }
  } else {
    const info = await imageInfo(bytes, { maxPixels: settings.maxInputPixels, maxPages: settings.maxPages });
    for (let index = 0; index < info.pages; index++) {
      const stages = new Stages();
      const grey = await stages.time('decode', () =>
        decoded(index, () => greyscalePage({ kind: 'image', bytes, page: index, maxPixels: settings.maxInputPixels })),
      );
      const density = info.density ? { dpi: info.density, known: false } : null;
      await store(index, info.pages, grey, density, info.exifRotation, { text: null, textScore: null }, stages);
    }
  }
  ctx.logger.info('preprocessed', {
    mediaType,
    pages: pages.length,
    textLayerPages: pages.filter((p) => p.text !== null).length,
    bytes: bytes.length,
  });
  return { mediaType, pages };
}
