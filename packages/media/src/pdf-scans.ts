import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createInflate, inflateSync } from 'node:zlib';
import { CorruptDocumentError } from '@docproc/catalog';
import { greyscalePage, placeOnPage, type PageSource, type Placement } from './page-image';
import type { GreyImage } from './skew';
import { PDFArray, PDFBool, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, decodePDFRawStream, type PDFPage } from '@cantoo/pdf-lib';

/**
 * A page that is one scanned image and nothing else, as the PDF stores it: a JPEG, 1-bit
 * data wrapped as a TIFF (CCITT fax data, as office and archive scanners write it, or
 * inflated 1-bit rows), both of which sharp decodes; JBIG2 data, which pdf.js's standalone
 * decoder reads (decodeScan); or 8-bit pixels, kept deflated until their page is decoded
 * (a document's pages are not all held inflated at once: a 9000 x 9000 RGB page is 243 MB).
 */
export type ScannedImage = { width: number; height: number; dpi: number; placement: Placement | null } & (
  | { kind: 'jpeg' | 'tiff'; bytes: Buffer }
  | { kind: 'jbig2'; bytes: Buffer; globals: Buffer | null; blackIsOne: boolean }
  | { kind: 'flate'; bytes: Buffer; channels: 1 | 3 }
);

/** A filter's one name, or the one name of a one-element array; null for none, undefined for a chain. */
function oneOf<T>(value: unknown, is: (v: unknown) => v is T): T | null | undefined {
  if (value === undefined) return null;
  if (value instanceof PDFArray) return value.size() === 1 ? (is(value.lookup(0)) ? (value.lookup(0) as T) : undefined) : undefined;
  return is(value) ? value : undefined;
}

/** TIFF compression: none, CCITT Group 3, CCITT Group 4. */
type Compression = 1 | 3 | 4;

/**
 * A one-strip 1-bit TIFF around `data` as it is (no decoding here): libtiff, through sharp,
 * decodes it. Photometric keeps the page's look: `blackIsOne` says whether a 1 bit is
 * black. For Group 3, T4Options says 1-D or 2-D coding.
 */
function bilevelTiff(data: Uint8Array, width: number, height: number, compression: Compression, blackIsOne: boolean, twoDimensional = false): Buffer {
  const entries: [tag: number, type: 3 | 4, value: number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 1],
    [259, 3, compression],
    [262, 3, blackIsOne ? 0 : 1], // 0: white is zero, 1: black is zero
    [273, 4, 0], // the strip's offset, set below
    [277, 3, 1],
    [278, 4, height],
    [279, 4, data.length],
    ...(compression === 3 ? [[292, 4, twoDimensional ? 1 : 0] as [number, 4, number]] : []),
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

/** "q ... W n q a b c d e f cm /Im Do Q Q": one image painted, with at most a clip and a rendering intent around it. */
const ONE_IMAGE =
  /^(?:\s*q\s*Q)?\s*q?(?:\s+[\d.-]+\s+[\d.-]+\s+[\d.-]+\s+[\d.-]+\s+re\s+W\s+n)?(?:\s*\/\w+\s+ri)?\s*q?\s*([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.-]+)\s+cm\s*\/([^\s/]+)\s+Do(?:\s*Q){0,2}\s*$/;

function contentOf(doc: PDFDocument, page: PDFPage): string | null {
  const contents = page.node.Contents();
  if (!contents) return null;
  const streams = contents instanceof PDFArray ? contents.asArray().map((ref) => doc.context.lookup(ref)) : [contents];
  if (!streams.every((s) => s instanceof PDFRawStream)) return null;
  return streams.map((s) => Buffer.from(decodePDFRawStream(s as PDFRawStream).decode()).toString('latin1')).join('\n');
}

/**
 * How the image matrix [a b c d e f] lays a `width` x `height` image on the page box: the
 * image's resolution on the page, and its placement unless it stands upright over the whole
 * box (a scanner's page). Null for a matrix that squashes the image flat.
 */
function placementOf(
  [a, b, c, d, e, f]: [number, number, number, number, number, number],
  width: number,
  height: number,
  box: { x: number; y: number; width: number; height: number },
): { dpi: number; placement: Placement | null } | null {
  const det = a * d - b * c;
  if (Math.abs(det) < 1e-6) return null;
  const dpi = Math.sqrt((width * height) / Math.abs(det)) * 72;
  const near = (p: number, q: number) => Math.abs(p - q) <= Math.max(1, Math.abs(q) * 0.01);
  if (b === 0 && c === 0 && a > 0 && d > 0 && near(a, box.width) && near(d, box.height) && near(e, box.x) && near(f, box.y)) {
    return { dpi, placement: null };
  }
  // page pixel (u, v), y down, to page point (X, Y), y up; to the image's unit square (s, t)
  // by the matrix's inverse (X = a s + c t + e, Y = b s + d t + f); to image pixel (s W, (1 - t) H)
  const k = 72 / dpi;
  const [X0, Xu, Yv] = [box.x, k, -k];
  const Y0 = box.y + box.height;
  const s = (X: number, Y: number) => (d * (X - e) - c * (Y - f)) / det;
  const t = (X: number, Y: number) => (a * (Y - f) - b * (X - e)) / det;
  // linear in (u, v): the value at the origin and its change per step of u and of v, taken at pixel centres
  const along = (g: (X: number, Y: number) => number, scale: number, offset: number): [number, number, number] => {
    const at = (u: number, v: number) => offset + scale * g(X0 + Xu * (u + 0.5), Y0 + Yv * (v + 0.5));
    const origin = at(0, 0);
    return [origin - 0.5, at(1, 0) - origin, at(0, 1) - origin];
  };
  return {
    dpi,
    placement: {
      width: Math.round(box.width / k),
      height: Math.round(box.height / k),
      x: along(s, width, 0),
      y: along(t, -height, height),
    },
  };
}

function scanOf(doc: PDFDocument, page: PDFPage): ScannedImage | null {
  if (page.getRotation().angle % 360 !== 0) return null;
  const match = ONE_IMAGE.exec(contentOf(doc, page) ?? '');
  if (!match) return null;
  const xobjects = page.node.Resources()?.lookup(PDFName.of('XObject'));
  const image =
    xobjects && 'get' in xobjects ? doc.context.lookup((xobjects as { get(n: PDFName): unknown }).get(PDFName.of(match[7]!)) as never) : null;
  if (!(image instanceof PDFRawStream)) return null;
  const dict = image.dict;
  const number = (key: string, from = dict) => (from.lookup(PDFName.of(key)) as PDFNumber | undefined)?.asNumber();
  const [width, height, bits] = [number('Width'), number('Height'), number('BitsPerComponent')];
  if (!width || !height) return null;
  const matrix = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const laid = placementOf(matrix, width, height, page.getCropBox());
  if (!laid) return null;
  const filter = oneOf(dict.lookup(PDFName.of('Filter')), (v): v is PDFName => v instanceof PDFName);
  const parms = oneOf(dict.lookup(PDFName.of('DecodeParms')), (v): v is PDFDict => v instanceof PDFDict);
  if (filter === undefined || parms === undefined || dict.has(PDFName.of('SMask')) || dict.has(PDFName.of('Mask'))) return null;
  if (dict.has(PDFName.of('ImageMask'))) return null; // a stencil, painted in the fill colour
  // /Decode: none, or (for 1-bit images) [1 0], which swaps black and white
  const decode = dict.lookup(PDFName.of('Decode'));
  const decodeValues = decode instanceof PDFArray ? decode.asArray().map((v) => (v as PDFNumber).asNumber?.()) : [];
  const swapped = decodeValues.length === 2 && decodeValues[0] === 1 && decodeValues[1] === 0;
  if (decode !== undefined && !(bits === 1 && (swapped || (decodeValues[0] === 0 && decodeValues[1] === 1)))) return null;
  const common = { width, height, ...laid };
  if (filter === PDFName.of('DCTDecode') && !parms && decode === undefined) return { kind: 'jpeg', bytes: Buffer.from(image.contents), ...common };
  if (filter === PDFName.of('CCITTFaxDecode')) {
    const flag = (key: string) => parms?.lookup(PDFName.of(key)) === PDFBool.True;
    const k = (parms && number('K', parms)) ?? 0;
    const columns = (parms && number('Columns', parms)) ?? 1728;
    // byte-aligned rows have no TIFF form for Group 4; pdf.js renders those
    if (columns !== width || flag('EncodedByteAlign')) return null;
    // the codes' own black and white (TIFF's WhiteIsZero), unless BlackIs1 inverts the look or /Decode [1 0] swaps it back
    const bytes = bilevelTiff(image.contents, width, height, k < 0 ? 4 : 3, flag('BlackIs1') === swapped, k > 0);
    return { kind: 'tiff', bytes, ...common };
  }
  if (filter === PDFName.of('JBIG2Decode')) {
    const globals = parms?.lookup(PDFName.of('JBIG2Globals'));
    if (globals !== undefined && !(globals instanceof PDFRawStream)) return null;
    // JBIG2 marks black with 1; /Decode [1 0] swaps
    return {
      kind: 'jbig2',
      bytes: Buffer.from(image.contents),
      globals: globals ? Buffer.from(decodePDFRawStream(globals).decode()) : null,
      blackIsOne: !swapped,
      ...common,
    };
  }
  const space = dict.lookup(PDFName.of('ColorSpace'));
  const channels = space === PDFName.of('DeviceGray') ? 1 : space === PDFName.of('DeviceRGB') ? 3 : 0;
  if (filter !== PDFName.of('FlateDecode') || parms || channels === 0) return null;
  if (bits === 1 && channels === 1) {
    // 1-bit grey: a 1 bit is white (paper), unless /Decode [1 0]
    const rows = inflateSync(image.contents);
    if (rows.length < Math.ceil(width / 8) * height) return null;
    return { kind: 'tiff', bytes: bilevelTiff(rows, width, height, 1, swapped), ...common };
  }
  if (bits === 8 && decode === undefined) return { kind: 'flate', bytes: Buffer.from(image.contents), channels: channels as 1 | 3, ...common };
  return null;
}

/**
 * The page's image in greyscale, as the page shows it (placed, when it is laid askew or
 * off the page's edges), refused past `maxPixels`. JBIG2 is decoded on the scans thread.
 */
export async function decodeScan(scan: ScannedImage, maxPixels: number): Promise<GreyImage> {
  const source: PageSource | null =
    scan.kind === 'flate' ? null : { kind: 'encoded', bytes: scan.kind === 'jbig2' ? await jbig2Tiff(scan) : scan.bytes, maxPixels };
  const grey = source ? await greyscalePage(source) : await inflatedGrey(scan as ScannedImage & { kind: 'flate' });
  return scan.placement ? placeOnPage(grey, scan.placement) : grey;
}

/**
 * A deflated 8-bit image in greyscale, inflated as a stream and turned grey as it comes
 * (as sharp makes grey): only the grey page is ever whole in memory, a third
 * of an RGB page's bytes (a 9000 x 9000 page: 81 MB, not 243 MB inflated and again in sharp).
 * Its size must be what it says.
 */
async function inflatedGrey(scan: ScannedImage & { kind: 'flate' }): Promise<GreyImage> {
  const { width, height, channels } = scan;
  const data = Buffer.alloc(width * height);
  let filled = 0; // grey pixels written
  const carry = Buffer.alloc(3); // an RGB pixel split across two chunks
  let carried = 0;
  const take = (chunk: Buffer) => {
    if (channels === 1) {
      filled += chunk.copy(data, filled);
      return;
    }
    let i = 0;
    if (carried > 0) {
      i = Math.min(3 - carried, chunk.length);
      chunk.copy(carry, carried, 0, i);
      carried += i;
      if (carried < 3) return;
      if (filled < data.length) data[filled++] = luma(carry[0]!, carry[1]!, carry[2]!);
      carried = 0;
    }
    const whole = i + Math.floor((chunk.length - i) / 3) * 3;
    const end = Math.min(whole, i + (data.length - filled) * 3);
    for (; i < end; i += 3) data[filled++] = luma(chunk[i]!, chunk[i + 1]!, chunk[i + 2]!);
    carried = end === whole ? chunk.length - whole : 0;
    if (carried > 0) chunk.copy(carry, 0, whole);
  };
  await new Promise<void>((done, fail) => {
    const inflater = createInflate();
    inflater
      .on('data', take)
      .on('end', done)
      .on('error', (err: Error) => fail(new CorruptDocumentError(`a page's image data cannot be inflated: ${err.message}`)));
    inflater.end(scan.bytes);
  });
  if (filled < data.length) throw new CorruptDocumentError(`a page's image holds ${filled} of its ${width} x ${height} pixels`);
  return { data, width, height };
}

/** sRGB to linear light, per 8-bit value; and linear light back to 8-bit sRGB, in 65,536 steps. */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
const SRGB_STEPS = 65_535;
const SRGB = Uint8Array.from({ length: SRGB_STEPS + 1 }, (_, i) => {
  const y = i / SRGB_STEPS;
  return Math.round(255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055));
});
/** A pixel's grey as sharp (libvips) makes it: Rec. 709 luminance in linear light, back to sRGB. */
const luma = (r: number, g: number, b: number) => SRGB[Math.round((0.2126 * LINEAR[r]! + 0.7152 * LINEAR[g]! + 0.0722 * LINEAR[b]!) * SRGB_STEPS)]!;

const THREAD_ENTRY = resolve(__dirname, '..', 'dist', 'scans-thread.js');

/** What the scans thread is asked: a PDF's scans, or one JBIG2 image decoded. */
export type ScansRequest = { pdf: Uint8Array } | { jbig2: JbigImage };
export type ScansAnswer = { images: (ScannedImage | null)[] } | { tiff: Uint8Array } | { error: string };
type JbigImage = Pick<ScannedImage & { kind: 'jbig2' }, 'bytes' | 'globals' | 'width' | 'height' | 'blackIsOne'>;

/**
 * For each page of the PDF, its scanned image when the page is nothing but one image laid
 * upright or a little askew (ScannedImage); null for any other page, which pdf.js renders.
 * Decoding a scan with libjpeg-turbo, libtiff or pdf.js's standalone JBIG2 decoder instead
 * of rendering the page with pdf.js and its canvas is the larger part of a scanned page's cost.
 * An unreadable document gives no images (pdf.js then reports what is wrong with it).
 *
 * Parsed on a thread of its own (scans-thread.ts): pdf-lib reads a 1 MB scanned PDF in
 * 1.7 s of CPU (4 s on a busy machine), which on the worker's event loop held its locks,
 * heartbeats and cancels that long.
 */
export async function scannedImages(bytes: Buffer): Promise<(ScannedImage | null)[]> {
  const answer = await ask({ pdf: bytes });
  if (!('images' in answer)) return []; // pdf.js reports what is wrong with the document
  // the bytes came over as Uint8Arrays (their memory handed over, not copied): Buffers again
  return answer.images.map((image) => {
    if (!image) return null;
    if (image.kind === 'jbig2') return { ...image, bytes: asBuffer(image.bytes), globals: image.globals && asBuffer(image.globals) };
    return { ...image, bytes: asBuffer(image.bytes) };
  });
}

/** A JBIG2 image as a 1-bit TIFF that sharp reads, decoded on the scans thread (it takes 0.1 s of CPU a 300-dpi page). */
async function jbig2Tiff(image: JbigImage): Promise<Buffer> {
  const answer = await ask({ jbig2: image });
  if ('tiff' in answer) return asBuffer(answer.tiff);
  throw new Error('error' in answer ? answer.error : 'the JBIG2 decoder answered out of turn');
}

const asBuffer = (view: Uint8Array) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

/** One thread per process, started when first needed and kept (warm: its code loaded and compiled); one request at a time. */
let thread: Worker | undefined;
let queue: Promise<unknown> = Promise.resolve();

function ask(request: ScansRequest): Promise<ScansAnswer> {
  const run = queue.then(() => onThread(request));
  queue = run.catch(() => undefined);
  return run;
}

function onThread(request: ScansRequest): Promise<ScansAnswer> {
  const worker = (thread ??= new Worker(THREAD_ENTRY, { resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
  worker.unref(); // an idle thread keeps no process alive
  return new Promise((done) => {
    const onMessage = (answer: ScansAnswer) => {
      cleanup();
      done(answer);
    };
    const onError = (err: Error) => {
      cleanup();
      thread = undefined; // the next request gets a new thread
      done({ error: err.message });
    };
    const cleanup = () => worker.off('message', onMessage).off('error', onError);
    worker.on('message', onMessage).on('error', onError);
    worker.postMessage(request);
  });
}

/** The scans thread's answer to a request (scans-thread.ts runs it). */
export async function answerHere(request: ScansRequest): Promise<ScansAnswer> {
  if ('jbig2' in request) return { tiff: await decodeJbig2(request.jbig2) };
  return { images: await scannedImagesHere(Buffer.from(request.pdf.buffer, request.pdf.byteOffset, request.pdf.byteLength)) };
}

async function decodeJbig2({ bytes, globals, width, height, blackIsOne }: JbigImage): Promise<Buffer> {
  const { Jbig2Image } = await import('pdfjs-dist/image_decoders/pdf.image_decoders.mjs');
  const chunks = [...(globals ? [globals] : []), bytes].map((data) => ({ data, start: 0, end: data.length }));
  const bits = new Jbig2Image().parseChunks(chunks);
  if (bits.length < Math.ceil(width / 8) * height) throw new Error(`the JBIG2 image holds fewer than its ${width} x ${height} pixels`);
  return bilevelTiff(bits, width, height, 1, blackIsOne);
}

async function scannedImagesHere(bytes: Buffer): Promise<(ScannedImage | null)[]> {
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
