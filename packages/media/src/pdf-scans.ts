import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { inflateSync } from 'node:zlib';
import { PDFArray, PDFBool, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, decodePDFRawStream, type PDFPage } from '@cantoo/pdf-lib';

/**
 * A page that is one scanned image and nothing else, as the PDF stores it: a JPEG, CCITT
 * fax data (office and archive scanners' 1-bit pages) wrapped as a TIFF, both of which
 * sharp decodes, or raw 8-bit pixels.
 */
export type ScannedImage =
  | { kind: 'jpeg' | 'tiff'; bytes: Buffer; width: number; height: number; dpi: number }
  | { kind: 'raw'; pixels: Buffer; width: number; height: number; channels: 1 | 3; dpi: number };

/** A filter's one name, or the one name of a one-element array; null for none, undefined for a chain. */
function oneOf<T>(value: unknown, is: (v: unknown) => v is T): T | null | undefined {
  if (value === undefined) return null;
  if (value instanceof PDFArray) return value.size() === 1 ? (is(value.lookup(0)) ? (value.lookup(0) as T) : undefined) : undefined;
  return is(value) ? value : undefined;
}

/**
 * A TIFF holding the PDF's CCITT fax data as it is (no decoding here): libtiff, through
 * sharp, decodes it. Group 4 (K < 0) or Group 3 (K = 0: 1-D, K > 0: 2-D). Photometric
 * keeps the page's look: the PDF paints a 1 bit black when BlackIs1 (or white), and a
 * /Decode of [1 0] swaps them again.
 */
function ccittTiff(data: Uint8Array, width: number, height: number, k: number, blackIsOne: boolean): Buffer {
  const entries: [tag: number, type: 3 | 4, value: number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 1],
    [259, 3, k < 0 ? 4 : 3],
    [262, 3, blackIsOne ? 1 : 0], // 0: white is zero (a 1 bit is black), 1: black is zero
    [273, 4, 0], // the strip's offset, set below
    [277, 3, 1],
    [278, 4, height],
    [279, 4, data.length],
    ...(k >= 0 ? [[292, 4, k > 0 ? 1 : 0] as [number, 4, number]] : []), // T4Options: 2-D coding
  ];
  const ifdLength = 2 + entries.length * 12 + 4;
  const dataOffset = 8 + ifdLength;
  const out = Buffer.alloc(dataOffset + data.length);
  out.write('II*\0', 0, 'latin1');
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    const v = tag === 273 ? dataOffset : value;
    if (type === 3) out.writeUInt16LE(v, at + 8);
    else out.writeUInt32LE(v, at + 8);
  });
  out.writeUInt32LE(0, 10 + entries.length * 12);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, dataOffset);
  return out;
}

/** 1-bit rows (each padded to a byte) as 8-bit grey: a 1 bit white, or black when `oneIsBlack`. */
function unpackBits(packed: Buffer, width: number, height: number, oneIsBlack: boolean): Buffer | null {
  const row = Math.ceil(width / 8);
  if (packed.length < row * height) return null;
  const out = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const one = (packed[y * row + (x >> 3)]! >> (7 - (x & 7))) & 1;
      out[y * width + x] = one === 1 ? (oneIsBlack ? 0 : 255) : oneIsBlack ? 255 : 0;
    }
  }
  return out;
}

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
  const number = (key: string, from = dict) => (from.lookup(PDFName.of(key)) as PDFNumber | undefined)?.asNumber();
  const [width, height, bits] = [number('Width'), number('Height'), number('BitsPerComponent')];
  const filter = oneOf(dict.lookup(PDFName.of('Filter')), (v): v is PDFName => v instanceof PDFName);
  const parms = oneOf(dict.lookup(PDFName.of('DecodeParms')), (v): v is PDFDict => v instanceof PDFDict);
  if (!width || !height || filter === undefined || parms === undefined || dict.has(PDFName.of('SMask')) || dict.has(PDFName.of('Mask'))) return null;
  if (dict.has(PDFName.of('ImageMask'))) return null; // a stencil, painted in the fill colour
  // /Decode: none, or (for 1-bit images) [1 0], which swaps black and white
  const decode = dict.lookup(PDFName.of('Decode'));
  const decodeValues = decode instanceof PDFArray ? decode.asArray().map((v) => (v as PDFNumber).asNumber?.()) : [];
  const swapped = decodeValues.length === 2 && decodeValues[0] === 1 && decodeValues[1] === 0;
  if (decode !== undefined && !(bits === 1 && (swapped || (decodeValues[0] === 0 && decodeValues[1] === 1)))) return null;
  const dpi = (width / a) * 72;
  if (filter === PDFName.of('DCTDecode') && !parms && decode === undefined)
    return { kind: 'jpeg', bytes: Buffer.from(image.contents), width, height, dpi };
  if (filter === PDFName.of('CCITTFaxDecode')) {
    const flag = (key: string) => parms?.lookup(PDFName.of(key)) === PDFBool.True;
    const k = (parms && number('K', parms)) ?? 0;
    const columns = (parms && number('Columns', parms)) ?? 1728;
    // byte-aligned rows have no TIFF form for Group 4; pdf.js renders those
    if (columns !== width || flag('EncodedByteAlign')) return null;
    return { kind: 'tiff', bytes: ccittTiff(image.contents, width, height, k, flag('BlackIs1') !== swapped), width, height, dpi };
  }
  const space = dict.lookup(PDFName.of('ColorSpace'));
  const channels = space === PDFName.of('DeviceGray') ? 1 : space === PDFName.of('DeviceRGB') ? 3 : 0;
  if (filter !== PDFName.of('FlateDecode') || parms || channels === 0) return null;
  if (bits === 1 && channels === 1) {
    // 1-bit grey: a 1 bit is white (paper), unless /Decode [1 0]
    const pixels = unpackBits(inflateSync(image.contents), width, height, swapped);
    return pixels && { kind: 'raw', pixels, width, height, channels: 1, dpi };
  }
  if (bits === 8 && decode === undefined) {
    const pixels = inflateSync(image.contents);
    if (pixels.length !== width * height * channels) return null;
    return { kind: 'raw', pixels, width, height, channels: channels as 1 | 3, dpi };
  }
  return null;
}

const THREAD_ENTRY = resolve(__dirname, '..', 'dist', 'scans-thread.js');

/**
 * For each page of the PDF, its scanned image when the page is nothing but one upright
 * image covering it, in a form sharp reads directly (JPEG, CCITT fax as TIFF, or 8-bit
 * grey or RGB — 1-bit grey unpacked); null
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
          (image) => image && (image.kind === 'raw' ? { ...image, pixels: asBuffer(image.pixels) } : { ...image, bytes: asBuffer(image.bytes) }),
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
