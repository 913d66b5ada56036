export { detectMediaType, IMAGE_TYPES, type MediaType } from './media-type';
export { decodeImagePages, DEFAULT_DECODE_LIMITS, type DecodeLimits, type PageImage, type CleanOptions } from './images';
