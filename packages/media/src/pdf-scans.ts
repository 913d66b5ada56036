import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDocument, PDFName, PDFNumber, PDFRawStream, decodePDFRawStream, type PDFPage } from '@cantoo/pdf-lib';

/** A page that is one scanned image and nothing else, as the PDF stores it. */
export type ScannedImage =
  | { kind: 'jpeg'; bytes: Buffer; width: number; height: number; dpi: number }
  | { kind: 'raw'; pixels: Buffer; width: number; height: number; channels: 1 | 3; dpi: number };

/** "q ... W n q a 0 0 d e f cm /Im Do Q Q": one image painted upright, with at most a clip and a rendering intent around it. */
const ONE_IMAGE =
  /^(?:\s*q\s*Q)?\s*q(?:\s+[\d.-]+\s+[\d.-]+\s+[\d.-]+\s+[\d.-]+\s+re\s+W\s+n)?(?:\s*\/\w+\s+ri)?\s*q?\s*([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+cm\s*\/([^\s/]+)\s+Do\s*Q(?:\s*Q)?\s*$/;

function contentOf(doc: PDFDocument, page: PDFPage): string | null {
  const contents = page.node.Contents();
  if (!contents) return null;
  const streams = contents instanceof PDFArray ? contents.asArray().map((ref) => doc.context.lookup(ref)) : [contents];
  if (!streams.every((s) => s instanceof PDFRawStream)) return null;
  return streams.map((s) => Buffer.from(decodePDFRawStream(s as PDFRawStream).decode()).toString('latin1')).join('\n');
}

function scanOf(doc: PDFDocument, page: PDFPage): ScannedImage | null {
  if (page.getRotation().angle % 360 !== 0) return null;
  const match = ONE_IMAGE.exec(contentOf(doc, page) ?? '');
  if (!match) return null;
  const [a, b, c, d, e, f] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const box = page.getCropBox();
  // upright, and covering the page (a scanner's page is its image)
  const near = (x: number, y: number) => Math.abs(x - y) <= Math.max(1, Math.abs(y) * 0.01);
  if (b !== 0 || c !== 0 || a <= 0 || d <= 0 || !near(a, box.width) || !near(d, box.height) || !near(e, box.x) || !near(f, box.y)) return null;
  const xobjects = page.node.Resources()?.lookup(PDFName.of('XObject'));
  const image =
    xobjects && 'get' in xobjects ? doc.context.lookup((xobjects as { get(n: PDFName): unknown }).get(PDFName.of(match[7]!)) as never) : null;
  if (!(image instanceof PDFRawStream)) return null;
  const dict = image.dict;
  const number = (key: string) => (dict.lookup(PDFName.of(key)) as PDFNumber | undefined)?.asNumber();
  const [width, height, bits] = [number('Width'), number('Height'), number('BitsPerComponent')];
  const filter = dict.lookup(PDFName.of('Filter'));
  if (
    !width ||
    !height ||
    dict.has(PDFName.of('DecodeParms')) ||
    dict.has(PDFName.of('Decode')) ||
    dict.has(PDFName.of('SMask')) ||
    dict.has(PDFName.of('Mask'))
  ) {
    return null;
  }
  const dpi = (width / a) * 72;
  if (filter === PDFName.of('DCTDecode')) return { kind: 'jpeg', bytes: Buffer.from(image.contents), width, height, dpi };
  const space = dict.lookup(PDFName.of('ColorSpace'));
  const channels = space === PDFName.of('DeviceGray') ? 1 : space === PDFName.of('DeviceRGB') ? 3 : 0;
  if (filter === PDFName.of('FlateDecode') && bits === 8 && channels !== 0) {
    const pixels = inflateSync(image.contents);
    if (pixels.length !== width * height * channels) return null;
    return { kind: 'raw', pixels, width, height, channels: channels as 1 | 3, dpi };
  }
  return null;
}

const THREAD_ENTRY = resolve(__dirname, '..', 'dist', 'scans-thread.js');

/**
 * For each page of the PDF, its scanned image when the page is nothing but one upright
 * image covering it, in a form sharp reads directly (JPEG, or 8-bit grey or RGB); null
 * for any other page, which pdf.js renders. Decoding a scan with libjpeg-turbo instead of
 * pdf.js's JavaScript decoder and canvas is the larger part of a scanned page's cost.
 * An unreadable document gives no images (pdf.js then reports what is wrong with it).
 *
 * Parsed on a thread of its own (scans-thread.ts): pdf-lib reads a 1 MB scanned PDF in
 * 1.7 s of CPU (4 s on a busy machine), which on the worker's event loop held its locks,
 * heartbeats and cancels that long.
 */
export function scannedImages(bytes: Buffer): Promise<(ScannedImage | null)[]> {
  const run = queue.then(() => onThread(bytes));
  queue = run.catch(() => undefined);
  return run;
}

/** One thread per process, started when first needed and kept (warm: pdf-lib loaded, its code compiled); one PDF at a time. */
let thread: Worker | undefined;
let queue: Promise<unknown> = Promise.resolve();

function onThread(bytes: Buffer): Promise<(ScannedImage | null)[]> {
  const worker = (thread ??= new Worker(THREAD_ENTRY, { resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
  worker.unref(); // an idle thread keeps no process alive
  return new Promise((done) => {
    const onMessage = (images: (ScannedImage | null)[]) => {
      cleanup();
      // the bytes came over as Uint8Arrays (their memory handed over, not copied): Buffers again
      const asBuffer = (view: Uint8Array) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      done(
        images.map(
          (image) => image && (image.kind === 'jpeg' ? { ...image, bytes: asBuffer(image.bytes) } : { ...image, pixels: asBuffer(image.pixels) }),
        ),
      );
    };
    const onError = () => {
      cleanup();
      thread = undefined; // the next PDF gets a new thread
      done([]); // pdf.js reports what is wrong with the document
    };
    const cleanup = () => worker.off('message', onMessage).off('error', onError);
    worker.on('message', onMessage).on('error', onError);
    worker.postMessage(bytes);
  });
}

/** scannedImages on the calling thread (the scans thread runs it). */
export async function scannedImagesHere(bytes: Buffer): Promise<(ScannedImage | null)[]> {
  try {
    const doc = await PDFDocument.load(bytes, { updateMetadata: false });
    return doc.getPages().map((page) => {
      try {
        return scanOf(doc, page);
      } catch {
        return null;
      }
    });
  } catch {
    return [];
  }
}
