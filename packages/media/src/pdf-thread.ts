/**
 * The worker thread behind readPdf (pdf.ts): pdf.js renders on the thread, so
 * the event loop that renews BullMQ's job locks stays free, and a page that
 * renders forever can be stopped by terminating the thread.
 *
 * Protocol: workerData is a PdfThreadInput. The thread answers "opened" (or
 * "error"), then one "page" per "next" it receives, then "done".
 */
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PdfThreadInput, PdfThreadMessage, PdfPageMessage } from './pdf-protocol';
import { pageGeometry } from './page-geometry';
import { USABLE_TEXT_SCORE, scoreTextLayer, type TextLayerSample } from './text-layer';

const PDFJS_DIR = dirname(require.resolve('pdfjs-dist/package.json'));
const POINTS_PER_INCH = 72;

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDocument = Awaited<ReturnType<Pdfjs['getDocument']>['promise']>;
type PdfPageProxy = Awaited<ReturnType<PdfDocument['getPage']>>;

const post = (message: PdfThreadMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

/** The page's text layer, lines kept, with the share of it placed off the page. */
async function textLayer(page: PdfPageProxy): Promise<{ text: string; offPageShare: number }> {
  const content = await page.getTextContent();
  const [x0, y0, x1, y1] = page.view as [number, number, number, number];
  let text = '';
  let characters = 0;
  let offPage = 0;
  for (const item of content.items) {
    if (!('str' in item)) continue;
    text += item.str;
    if (item.hasEOL) text += '\n';
    else if (item.str !== '' && !text.endsWith(' ')) text += ' ';
    const [x, y] = [item.transform[4] as number, item.transform[5] as number];
    characters += item.str.length;
    if (x < x0 || x > x1 || y < y0 || y > y1) offPage += item.str.length;
  }
  return { text: text.replace(/[ \t]+\n/g, '\n').trim(), offPageShare: characters === 0 ? 0 : offPage / characters };
}

class TooLarge extends Error {}

/**
 * Refuses a page holding an image larger than the ceiling before pdf.js decodes it whole
 * (a 1,200 dpi monochrome scan is 700 megapixels: its canvas cannot even be made).
 */
async function checkImages(page: PdfPageProxy, index: number, input: PdfThreadInput, OPS: Pdfjs['OPS']): Promise<void> {
  const { fnArray, argsArray } = await page.getOperatorList();
  for (let i = 0; i < fnArray.length; i++) {
    const op = fnArray[i];
    let size: [number, number] | undefined;
    if (op === OPS.paintImageXObject) size = [(argsArray[i] as number[])[1]!, (argsArray[i] as number[])[2]!];
    else if (op === OPS.paintInlineImageXObject || op === OPS.paintImageMaskXObject) {
      const image = (argsArray[i] as { width: number; height: number }[])[0]!;
      size = [image.width, image.height];
    }
    if (size && size[0] * size[1] > input.maxImagePixels) {
      throw new TooLarge(`page ${index + 1} holds an image of ${size[0]} x ${size[1]} pixels, more than the limit of ${input.maxImagePixels}`);
    }
  }
}

/** The share of the page's text-showing operations drawn invisibly (rendering mode 3, as OCR layers are). */
async function invisibleShare(page: PdfPageProxy, OPS: Pdfjs['OPS']): Promise<number> {
  const { fnArray, argsArray } = await page.getOperatorList();
  const shows = new Set<number>([OPS.showText, OPS.showSpacedText, OPS.nextLineShowText, OPS.nextLineSetSpacingShowText]);
  const saved: number[] = [];
  let mode = 0;
  let shown = 0;
  let invisible = 0;
  for (let i = 0; i < fnArray.length; i++) {
    const op = fnArray[i];
    if (op === OPS.save) saved.push(mode);
    else if (op === OPS.restore) mode = saved.pop() ?? 0;
    else if (op === OPS.setTextRenderingMode) mode = (argsArray[i] as number[])[0]!;
    else if (shows.has(op!)) {
      shown++;
      if (mode === 3) invisible++;
    }
  }
  return shown === 0 ? 0 : invisible / shown;
}

/** The resolution to render at: the target, lowered so the page stays under the pixel ceiling. */
function renderDpi(widthPt: number, heightPt: number, input: PdfThreadInput): number {
  const inches = (widthPt / POINTS_PER_INCH) * (heightPt / POINTS_PER_INCH);
  const ceilingDpi = Math.sqrt(input.maxPagePixels / inches);
  return Math.max(1, Math.min(input.dpi, Math.floor(ceilingDpi)));
}

/** The page's text layer and its score, or nulls when it has none or it is ignored. */
async function readLayer(
  page: PdfPageProxy,
  input: PdfThreadInput,
  OPS: Pdfjs['OPS'],
): Promise<{ text: string | null; score: number | null; taken: boolean }> {
  if (input.textLayer === 'ignore') return { text: null, score: null, taken: false };
  const { text, offPageShare } = await textLayer(page);
  if (text === '') return { text: null, score: null, taken: false };
  const sample: TextLayerSample = { text, offPageShare, invisibleShare: await invisibleShare(page, OPS) };
  const { score } = scoreTextLayer(sample, input.languages);
  const taken = input.textLayer === 'use' || score >= USABLE_TEXT_SCORE;
  return { text: taken ? text : null, score, taken };
}

async function renderPage(
  doc: PdfDocument,
  index: number,
  input: PdfThreadInput,
  OPS: Pdfjs['OPS'],
): Promise<{ message: PdfPageMessage; transfer: ArrayBuffer[] }> {
  const page = await doc.getPage(index + 1);
  try {
    const base = page.getViewport({ scale: 1 });
    // a page that is one scanned image and nothing else has no text layer to read
    const layer = input.scanPages.includes(index) ? { text: null, score: null, taken: false } : await readLayer(page, input, OPS);
    const dpi = renderDpi(base.width, base.height, input);
    const viewport = page.getViewport({ scale: dpi / POINTS_PER_INCH });
    const width = Math.round(viewport.width);
    const height = Math.round(viewport.height);
    const message: PdfPageMessage = {
      type: 'page',
      index,
      widthPt: base.width,
      heightPt: base.height,
      dpi,
      width,
      height,
      text: layer.text,
      textScore: layer.score,
    };
    if (layer.taken && input.geometry) message.geometry = await pageGeometry(page, dpi, OPS);
    if (layer.taken || input.scanPages.includes(index)) return { message, transfer: [] };
    await checkImages(page, index, input, OPS);

    const factory = doc.canvasFactory as { create(width: number, height: number): unknown };
    const { canvas, context } = factory.create(width, height) as {
      canvas: { data(): Buffer } & object;
      context: { fillStyle: string; fillRect(x: number, y: number, w: number, h: number): void };
    };
    // Paper is white: transparent pixels would read as black once greyscaled.
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    await page.render({ canvasContext: context as never, viewport, canvas: canvas as never }).promise;
    const rgba = canvas.data();
    const pixels = new Uint8Array(rgba.byteLength);
    pixels.set(rgba);
    message.pixels = pixels;
    return { message, transfer: [pixels.buffer as ArrayBuffer] };
  } finally {
    page.cleanup();
  }
}

async function main(): Promise<void> {
  const input = workerData as PdfThreadInput;
  const pdfjs: Pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc: PdfDocument;
  try {
    doc = await pdfjs.getDocument({
      data: input.bytes,
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      verbosity: 0,
      standardFontDataUrl: join(PDFJS_DIR, 'standard_fonts') + '/',
      cMapUrl: join(PDFJS_DIR, 'cmaps') + '/',
      cMapPacked: true,
      wasmUrl: join(PDFJS_DIR, 'wasm') + '/',
    }).promise;
  } catch (err) {
    const e = err as Error;
    const code = e.name === 'PasswordException' ? 'encrypted_document' : 'corrupt_document';
    post({ type: 'error', code, message: e.message });
    return;
  }
  post({ type: 'opened', pages: doc.numPages });
  let next = 0;
  parentPort!.on('message', async (request: { type: 'next' }) => {
    if (request.type !== 'next') return;
    if (next >= doc.numPages) {
      post({ type: 'done' });
      return;
    }
    const index = next++;
    try {
      const { message, transfer } = await renderPage(doc, index, input, pdfjs.OPS);
      post(message, transfer);
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof TooLarge) post({ type: 'error', code: 'too_large', message });
      // skia refuses a canvas it cannot allocate; V8 an array it cannot
      else if (err instanceof RangeError || /skia surface|allocat|memory/i.test(message)) {
        post({ type: 'error', code: 'too_large', message: `page ${index + 1} is too large to render: ${message}` });
      } else post({ type: 'error', code: 'corrupt_document', message: `page ${index + 1} cannot be rendered: ${message}` });
    }
  });
}

if (parentPort) void main();
