import sharp from 'sharp';
import { otsuThreshold, type GreyImage } from './skew';

/**
 * Where a page's pixels come from: an image file (one page of it, upright by its EXIF
 * orientation), an image as a PDF holds it (a JPEG, whose EXIF PDF readers ignore, or
 * CCITT fax data wrapped as a TIFF), or raw pixels (RGBA from the PDF renderer, grey or
 * RGB from a PDF's image).
 */
export type PageSource =
  | { kind: 'image'; bytes: Buffer; page: number; maxPixels: number }
  | { kind: 'encoded'; bytes: Buffer; maxPixels: number }
  | { kind: 'raw'; pixels: Buffer; width: number; height: number; channels: 1 | 3 | 4 };

/** The page in greyscale. */
export async function greyscalePage(source: PageSource): Promise<GreyImage> {
  const image =
    source.kind === 'image'
      ? sharp(source.bytes, { page: source.page, limitInputPixels: source.maxPixels, failOn: 'error' }).rotate()
      : source.kind === 'encoded'
        ? sharp(source.bytes, { limitInputPixels: source.maxPixels, failOn: 'error' })
        : sharp(source.pixels, { raw: { width: source.width, height: source.height, channels: source.channels } });
  // Transparent areas are paper; one channel out, whatever came in.
  const { data, info } = await image.flatten({ background: '#ffffff' }).greyscale().extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * How a page shows its image, when not upright over the whole page (turned, flipped, off
 * its edges): the page is `width` x `height` pixels, and the image's pixel under page pixel
 * (u, v) is (x[0] + x[1] u + x[2] v, y[0] + y[1] u + y[2] v), pixel indices both, y down.
 */
export interface Placement {
  width: number;
  height: number;
  x: [number, number, number];
  y: [number, number, number];
}

/**
 * The image laid on its page as a PDF viewer shows it: each page pixel sampled from the
 * image between its four nearest pixels (bilinear), white where the image does not reach.
 * One pass over the page's bytes: 0.1 s for a 300-dpi letter page, about what sharp's
 * rotate takes, with the geometry exactly the PDF's.
 */
export function placeOnPage(image: GreyImage, { width, height, x, y }: Placement): GreyImage {
  const { data, width: w, height: h } = image;
  const out = Buffer.alloc(width * height, 255);
  // a pixel of the image; past its edge, white paper
  const pixel = (px: number, py: number) => (px < 0 || py < 0 || px >= w || py >= h ? 255 : data[py * w + px]!);
  for (let v = 0; v < height; v++) {
    let sx = x[0] + x[2] * v;
    let sy = y[0] + y[2] * v;
    for (let u = 0, at = v * width; u < width; u++, at++, sx += x[1], sy += y[1]) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
      const fx = sx - x0;
      const fy = sy - y0;
      let top: number;
      let bottom: number;
      if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
        const i = y0 * w + x0;
        top = data[i]! + (data[i + 1]! - data[i]!) * fx;
        bottom = data[i + w]! + (data[i + w + 1]! - data[i + w]!) * fx;
      } else {
        top = pixel(x0, y0) + (pixel(x0 + 1, y0) - pixel(x0, y0)) * fx;
        bottom = pixel(x0, y0 + 1) + (pixel(x0 + 1, y0 + 1) - pixel(x0, y0 + 1)) * fx;
      }
      out[at] = top + (bottom - top) * fy;
    }
  }
  return { data: out, width, height };
}

const rawOf = (grey: GreyImage) => sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } });

/** A copy no larger than `maxSide` on its longer side, for analysis (orientation, skew). */
export async function shrink(grey: GreyImage, maxSide: number): Promise<GreyImage> {
  if (Math.max(grey.width, grey.height) <= maxSide) return grey;
  return stage(grey, (image) => image.resize({ width: maxSide, height: maxSide, fit: 'inside' }));
}

/**
 * The image as binary PGM, for Tesseract: Leptonica reads it with no
 * decompression, and it carries no resolution, so Tesseract estimates one
 * from the text instead of assuming 70 dpi as it does for a PNG without one.
 */
export function greyPgm(grey: GreyImage): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${grey.width} ${grey.height}\n255\n`, 'ascii'), grey.data]);
}

const PGM_HEADER = /^P5\s+(\d+)\s+(\d+)\s+255\s/;

/** A PGM of 8-bit grey (as greyPgm writes it), as a grey image; null when it is not one. */
export function readPgm(bytes: Buffer): GreyImage | null {
  const header = PGM_HEADER.exec(bytes.subarray(0, 32).toString('latin1'));
  if (!header) return null;
  const [width, height] = [Number(header[1]), Number(header[2])];
  const data = bytes.subarray(header[0].length);
  return data.length === width * height ? { data, width, height } : null;
}

/** Any image sharp reads, as PGM; a page stored as PGM (finishPage's) as it is. */
export async function toPgm(image: Buffer): Promise<Buffer> {
  if (readPgm(image)) return image;
  const { data, info } = await sharp(image).greyscale().extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return greyPgm({ data, width: info.width, height: info.height });
}

/** The longest plausible page side, in inches (tabloid): a density that makes the page larger is not a scan's. */
const MAX_PLAUSIBLE_PAGE_INCHES = 17;
/** Densities below this are software defaults (72, 96), not scanner settings. */
const MIN_PLAUSIBLE_DPI = 100;
/** An image of unknown resolution is enlarged to at least this long side (at most 3x). */
const MIN_UNKNOWN_LONG_SIDE = 2000;

/**
 * The resolution of a page and the factor that brings it to `targetDpi`,
 * never past `maxPagePixels`. A density we rendered at ourselves is `known`;
 * an image's stated density is believed only when it gives a plausible paper size (many files say 72 dpi whatever they are);
 * an image of unknown density keeps its size unless it is too large.
 */
export function pageScale(
  width: number,
  height: number,
  density: { dpi: number; known: boolean } | null | undefined,
  targetDpi: number,
  maxPagePixels: number,
): { dpi: number | null; scale: number } {
  const plausible = (dpi: number) => dpi >= MIN_PLAUSIBLE_DPI && Math.max(width, height) / dpi <= MAX_PLAUSIBLE_PAGE_INCHES;
  const believed = density && (density.known || plausible(density.dpi)) ? density.dpi : null;
  // Unknown resolution: a small image most likely holds small text, which Tesseract reads
  // far better enlarged (its x-height wants 20-30 px); a large one is left as it is.
  const longSide = Math.max(width, height);
  let scale = believed ? targetDpi / believed : longSide < MIN_UNKNOWN_LONG_SIDE ? MIN_UNKNOWN_LONG_SIDE / longSide : 1;
  if (Math.abs(scale - 1) < 0.1) scale = 1; // not worth a resample
  scale = Math.min(scale, 3, Math.sqrt(maxPagePixels / (width * height)));
  return { dpi: believed ? Math.round(believed * scale) : null, scale };
}

export interface FinishOptions {
  /** Quarter turns clockwise, in degrees (0, 90, 180, 270), from orientation detection. */
  turn: number;
  /** Degrees to rotate by to straighten the lines (minus the estimated skew). */
  straighten: number;
  scale: number;
  /** Black and white at Otsu's threshold instead of normalised grey. */
  binarize: boolean;
}

/** One sharp stage over a raw greyscale image, back to raw greyscale. */
async function stage(page: GreyImage, apply: (image: sharp.Sharp) => sharp.Sharp): Promise<GreyImage> {
  const { data, info } = await apply(rawOf(page)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Stretches the page's grey levels over 0-255 from its 1st to its 99th percentile, as
 * sharp's normalise() does — but in one pass over the bytes: sharp's goes through sRGB and
 * three channels, and cost 0.18 s of CPU on a 3-megapixel page against 0.01-0.02 s here.
 */
function normalise(grey: GreyImage): GreyImage {
  const { data } = grey;
  const histogram = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) histogram[data[i]!]!++;
  const level = (share: number) => {
    let seen = 0;
    for (let value = 0; value < 256; value++) {
      seen += histogram[value]!;
      if (seen > data.length * share) return value;
    }
    return 255;
  };
  const [low, high] = [level(0.01), level(0.99)];
  if (high <= low) return grey;
  const table = new Uint8Array(256);
  for (let value = 0; value < 256; value++) table[value] = Math.min(255, Math.max(0, Math.round(((value - low) * 255) / (high - low))));
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = table[data[i]!]!;
  return { data: out, width: grey.width, height: grey.height };
}

/** A 3x3 median filter: takes the specks off a noisy scan and leaves strokes. */
export async function despeckle(grey: GreyImage): Promise<GreyImage> {
  return stage(grey, (image) => image.median(3));
}

/** The page turned clockwise by a multiple of 90 degrees. */
export async function turnPage(grey: GreyImage, degrees: number): Promise<GreyImage> {
  return degrees % 360 === 0 ? grey : stage(grey, (image) => image.rotate(degrees));
}

/**
 * Turns, straightens, scales, normalises (and optionally binarises) the page: the page OCR
 * reads, as 8-bit grey PGM — what both Tesseracts read as it is, so the page goes from
 * preprocessing to OCR without an image codec between them (a PNG cost ~0.03 s of CPU to
 * write and ~0.01 s to read a 300-dpi page).
 */
export async function finishPage(grey: GreyImage, options: FinishOptions): Promise<{ pgm: Buffer; width: number; height: number }> {
  let page = grey;
  if (options.turn % 360 !== 0) page = await stage(page, (image) => image.rotate(options.turn));
  if (options.straighten !== 0) {
    page = await stage(page, (image) => image.rotate(options.straighten, { background: { r: 255, g: 255, b: 255 } }));
  }
  if (options.scale !== 1) {
    const width = Math.max(1, Math.round(page.width * options.scale));
    page = await stage(page, (image) => image.resize({ width, kernel: options.scale > 1 ? 'cubic' : 'lanczos3' }));
  }
  page = normalise(page);
  if (options.binarize) page = threshold(page, otsuThreshold(page));
  return { pgm: greyPgm(page), width: page.width, height: page.height };
}

/** Black below `level`, white from it (as sharp's threshold). */
function threshold(grey: GreyImage, level: number): GreyImage {
  const out = Buffer.allocUnsafe(grey.data.length);
  for (let i = 0; i < out.length; i++) out[i] = grey.data[i]! >= level ? 255 : 0;
  return { data: out, width: grey.width, height: grey.height };
}
