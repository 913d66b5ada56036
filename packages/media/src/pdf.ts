import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CorruptDocumentError, EncryptedDocumentError, StepTimeoutError, TooLargeError, TooManyPagesError } from '@docproc/catalog';
import type { PdfPageMessage, PdfThreadInput, PdfThreadMessage, TextLayerMode } from './pdf-protocol';

/** The built thread entry; from src/ (tests) and dist/ alike. */
const THREAD_ENTRY = resolve(__dirname, '..', 'dist', 'pdf-thread.js');

export interface PdfReadOptions {
  /** Target resolution of rendered pages (OCR reads 300 dpi best). */
  dpi: number;
  /** Take a page's text layer instead of rendering it: when it scores well (auto), always (use), never (ignore). */
  textLayer: TextLayerMode;
  /** The document's languages, whose scripts a text layer's letters should be in. */
  languages: string[];
  /** Pages not to render: the caller decodes their scanned image itself (scannedImages); only their text layer is read. */
  scanPages?: number[];
  /** Also give each page taken from its text layer its geometry (runs, ruling lines, pictures) for layout analysis. */
  geometry?: boolean;
}

export interface PdfLimits {
  maxPages: number;
  /** A page is rendered at a lower resolution rather than with more pixels than this. */
  maxPagePixels: number;
  /** A page holding an image of more pixels than this fails TooLargeError. */
  maxImagePixels: number;
  /** Longest time to open the document or to render one page. */
  pageTimeoutMs: number;
}

export interface PdfPage extends Omit<PdfPageMessage, 'type' | 'pixels'> {
  /** RGBA pixels (width x height x 4) when the page was rendered; absent for a text page. */
  rgba?: Buffer;
}

/**
 * Reads a PDF page by page on a worker thread: each page's usable text layer,
 * and its pixels rendered by pdf.js onto @napi-rs/canvas. Pages are rendered
 * one at a time, as the caller asks for them, so memory holds one page.
 * Throws EncryptedDocumentError, CorruptDocumentError, TooManyPagesError, TooLargeError, or
 * StepTimeoutError (the thread is then stopped), or the signal's reason when
 * it aborts (the thread is stopped at once, mid-page).
 */
export async function* readPdf(
  bytes: Buffer,
  options: PdfReadOptions,
  limits: PdfLimits,
  signal?: AbortSignal,
): AsyncGenerator<PdfPage & { count: number }> {
  const input: PdfThreadInput = {
    bytes: new Uint8Array(bytes),
    dpi: options.dpi,
    maxPagePixels: limits.maxPagePixels,
    maxImagePixels: limits.maxImagePixels,
    textLayer: options.textLayer,
    languages: options.languages,
    scanPages: options.scanPages ?? [],
    geometry: options.geometry ?? false,
  };
  const thread = new Worker(THREAD_ENTRY, { workerData: input, transferList: [input.bytes.buffer as ArrayBuffer], stdout: true, stderr: true });
  const inbox: PdfThreadMessage[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  thread.on('message', (message: PdfThreadMessage) => {
    inbox.push(message);
    wake?.();
  });
  thread.on('error', (err) => {
    failure = new CorruptDocumentError(`the PDF cannot be read: ${err.message}`);
    wake?.();
  });
  thread.on('exit', (code) => {
    failure ??= new CorruptDocumentError(`the PDF reader stopped (exit code ${code})`);
    wake?.();
  });
  const onAbort = () => {
    failure = signal!.reason as Error;
    void thread.terminate();
    wake?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();

  const receive = async (what: string): Promise<PdfThreadMessage> => {
    const deadline = Date.now() + limits.pageTimeoutMs;
    while (inbox.length === 0 || signal?.aborted) {
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new StepTimeoutError(`${what} took longer than ${limits.pageTimeoutMs} ms`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        wake = () => {
          clearTimeout(timer);
          done();
        };
      });
      wake = undefined;
    }
    const message = inbox.shift()!;
    if (message.type === 'error') {
      if (message.code === 'encrypted_document') throw new EncryptedDocumentError('the PDF is encrypted with a password');
      if (message.code === 'too_large') throw new TooLargeError(message.message);
      throw new CorruptDocumentError(`the PDF cannot be read: ${message.message}`);
    }
    return message;
  };

  try {
    const opened = await receive('opening the PDF');
    if (opened.type !== 'opened') throw new CorruptDocumentError('the PDF reader answered out of turn');
    if (opened.pages > limits.maxPages) {
      throw new TooManyPagesError(`the PDF has ${opened.pages} pages, more than the limit of ${limits.maxPages}`);
    }
    for (let index = 0; index < opened.pages; index++) {
      thread.postMessage({ type: 'next' });
      const message = await receive(`page ${index + 1}`);
      if (message.type !== 'page') throw new CorruptDocumentError('the PDF reader answered out of turn');
      const { type: _type, pixels, ...page } = message;
      yield { ...page, count: opened.pages, ...(pixels ? { rgba: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) } : {}) };
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    thread.removeAllListeners('exit');
    await thread.terminate();
  }
}
