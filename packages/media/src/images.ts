import sharp from 'sharp';
import { CorruptDocumentError, TooLargeError, TooManyPagesError } from '@docproc/catalog';

export interface DecodeLimits {
  /** Refuse images with more pixels than this (decompression bombs). */
  maxPixels: number;
  maxPages: number;
}

export interface PageImage {
  index: number;
  png: Buffer;
  width: number;
  height: number;
  /** Degrees turned to stand upright, from the EXIF orientation. */
  rotation: number;
}

const EXIF_ROTATION: Record<number, number> = { 1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270 };

export interface CleanOptions {
  /** Greyscale and stretch contrast: what OCR reads best. */
  normalise: boolean;
}

export interface ImageInfo {
  pages: number;
  width: number;
  height: number;
  /** Pixels per inch, when the file says. */
  density?: number;
  /** Degrees the EXIF orientation turns the image by. */
  exifRotation: number;
}

/**
 * Reads an image's header (no pixels are decoded) and applies the guards:
 * TooLargeError above `maxPixels` per page, TooManyPagesError above
 * `maxPages`, CorruptDocumentError when the header cannot be read.
 */
export async function imageInfo(bytes: Buffer, limits: DecodeLimits): Promise<ImageInfo> {
  let info: ImageInfo;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    info = {
      pages: meta.pages ?? 1,
      width: meta.width,
      height: meta.height,
      density: meta.density,
      exifRotation: EXIF_ROTATION[meta.orientation ?? 1] ?? 0,
    };
  } catch (err) {
    throw new CorruptDocumentError(`the image cannot be decoded: ${(err as Error).message.split('\n')[0]}`);
  }
  if (info.width * info.height > limits.maxPixels) {
    throw new TooLargeError(`the image has ${info.width}x${info.height} pixels, more than the limit of ${limits.maxPixels}`);
  }
  if (info.pages > limits.maxPages) throw new TooManyPagesError(`the image has ${info.pages} pages, more than the limit of ${limits.maxPages}`);
  return info;
}

/**
 * Decodes every page of an image (multi-page TIFF and GIF included) to PNG,
 * upright by EXIF. Anything sharp cannot decode is a CorruptDocumentError, so
 * no unreadable bytes ever reach the OCR engine.
 */
export async function decodeImagePages(bytes: Buffer, options: CleanOptions, limits: DecodeLimits): Promise<PageImage[]> {
  const info = await imageInfo(bytes, limits);
  const pages: PageImage[] = [];
  for (let index = 0; index < info.pages; index++) {
    try {
      let image = sharp(bytes, { page: index, limitInputPixels: limits.maxPixels, failOn: 'error' }).rotate();
      if (options.normalise) image = image.greyscale().normalise().toColourspace('b-w');
      const { data, info: out } = await image.png().toBuffer({ resolveWithObject: true });
      pages.push({ index, png: data, width: out.width, height: out.height, rotation: info.exifRotation });
    } catch (err) {
      throw new CorruptDocumentError(`page ${index + 1} cannot be decoded: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return pages;
}
