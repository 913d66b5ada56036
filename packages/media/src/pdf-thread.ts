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
import { isUsableText, type PdfThreadInput, type PdfThreadMessage, type PdfPageMessage } from './pdf-protocol';

const PDFJS_DIR = dirname(require.resolve('pdfjs-dist/package.json'));
const POINTS_PER_INCH = 72;

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDocument = Awaited<ReturnType<Pdfjs['getDocument']>['promise']>;
type PdfPageProxy = Awaited<ReturnType<PdfDocument['getPage']>>;

const post = (message: PdfThreadMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

/** Text of the page's text layer, lines kept; empty when it has none. */
async function textLayer(page: PdfPageProxy): Promise<string> {
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items) {
    if (!('str' in item)) continue;
    text += item.str;
    if (item.hasEOL) text += '\n';
    else if (item.str !== '' && !text.endsWith(' ')) text += ' ';
  }
  return text.replace(/[ \t]+\n/g, '\n').trim();
}

/** The resolution to render at: the target, lowered so the page stays under the pixel ceiling. */
function renderDpi(widthPt: number, heightPt: number, input: PdfThreadInput): number {
  const inches = (widthPt / POINTS_PER_INCH) * (heightPt / POINTS_PER_INCH);
  const ceilingDpi = Math.sqrt(input.maxPagePixels / inches);
  return Math.max(1, Math.min(input.dpi, Math.floor(ceilingDpi)));
}

async function renderPage(doc: PdfDocument, index: number, input: PdfThreadInput): Promise<{ message: PdfPageMessage; transfer: ArrayBuffer[] }> {
  const page = await doc.getPage(index + 1);
  try {
    const base = page.getViewport({ scale: 1 });
    const text = input.useTextLayer ? await textLayer(page) : '';
    const usable = isUsableText(text);
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
      text: usable ? text : null,
    };
    if (usable && !input.forceOcr) return { message, transfer: [] };

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
      const { message, transfer } = await renderPage(doc, index, input);
      post(message, transfer);
    } catch (err) {
      post({ type: 'error', code: 'corrupt_document', message: `page ${index + 1} cannot be rendered: ${(err as Error).message}` });
    }
  });
}

if (parentPort) void main();
