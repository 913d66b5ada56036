export { decodeImagePages, imageInfo, type DecodeLimits, type ImageInfo, type PageImage, type CleanOptions } from './images';
export { readPdf, type PdfLimits, type PdfPage, type PdfReadOptions } from './pdf';
export { isUsableText } from './pdf-protocol';
export { estimateSkew, otsuThreshold, type GreyImage, type SkewEstimate } from './skew';
export { despeckle, finishPage, greyPgm, greyscalePage, pageScale, shrink, toPgm, turnPage, type FinishOptions, type PageSource } from './page-image';
export { speckleRatio } from './speckle';
