export { decodeImagePages, imageInfo, type DecodeLimits, type ImageInfo, type PageImage, type CleanOptions } from './images';
export { readPdf, type PdfLimits, type PdfPage, type PdfReadOptions } from './pdf';
export type { TextLayerMode } from './pdf-protocol';
export { USABLE_TEXT_SCORE, languagesOfScript, scoreTextLayer, writtenWithAscenders, type TextLayerSample, type TextLayerScore } from './text-layer';
export { estimateSkew, otsuThreshold, type GreyImage, type SkewEstimate } from './skew';
export {
  despeckle,
  finishPage,
  greyPgm,
  greyscalePage,
  pageScale,
  readPgm,
  shrink,
  toPgm,
  turnPage,
  type FinishOptions,
  type PageSource,
} from './page-image';
export { speckleRatio } from './speckle';
export { decodeScan, scannedImages, type ScannedImage } from './pdf-scans';
export { lineShape, uprightByLines, type LineShape } from './line-shape';
export { findRules, strokeWidth } from './rulings';
export type { Box, PageGeometry } from './pdf-protocol';
