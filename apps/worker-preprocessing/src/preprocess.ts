import { UnsupportedTypeError, type PreprocessResult } from '@docproc/catalog';
import { decodeImagePages, detectMediaType, IMAGE_TYPES, type DecodeLimits } from '@docproc/media';
import type { StepContext } from '@docproc/runtime';
import { blobKeys } from '@docproc/storage';

/**
 * The preprocessing step: find the document's type from its bytes, decode
 * every page upright (EXIF), greyscale and normalise it, and store each page
 * image for OCR. Plain text passes through with no pages.
 */
export async function preprocess(ctx: StepContext, limits?: DecodeLimits): Promise<PreprocessResult> {
  const { batchId, documentId, blobKey } = ctx.payload;
  const bytes = await ctx.blobs.get(blobKey);
  const mediaType = detectMediaType(bytes);

  if (mediaType === 'text/plain') return { mediaType, pages: [] };
  if (mediaType === 'application/pdf') {
    throw new UnsupportedTypeError('PDF documents are not supported yet: submit page images (PNG, JPEG, TIFF, WebP, GIF, BMP)');
  }
  if (mediaType === null || !IMAGE_TYPES.includes(mediaType)) {
    throw new UnsupportedTypeError('the document is not an image, PDF or plain text that docproc can read');
  }

  const pages = await decodeImagePages(bytes, { normalise: true }, limits);
  const stored: PreprocessResult['pages'] = [];
  for (const page of pages) {
    const key = blobKeys.page(batchId, documentId, page.index);
    await ctx.blobs.put(key, page.png);
    stored.push({ index: page.index, blobKey: key, width: page.width, height: page.height, rotation: page.rotation });
    await ctx.progress(Math.round(((page.index + 1) / pages.length) * 100));
  }
  ctx.logger.info('preprocessed', { mediaType, pages: stored.length, bytes: bytes.length });
  return { mediaType, pages: stored };
}
