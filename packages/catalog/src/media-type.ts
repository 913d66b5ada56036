/** Media types docproc recognises, by their bytes. */
export type MediaType = 'application/pdf' | 'image/png' | 'image/jpeg' | 'image/tiff' | 'image/webp' | 'image/gif' | 'image/bmp' | 'text/plain';

export const IMAGE_TYPES: readonly MediaType[] = ['image/png', 'image/jpeg', 'image/tiff', 'image/webp', 'image/gif', 'image/bmp'];

const startsWith = (bytes: Buffer, signature: number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

/** Whether the bytes read as UTF-8 text with no control characters but whitespace. */
function looksLikeText(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  const sample = bytes.subarray(0, 64 * 1024);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(sample);
  // A cut multi-byte character at the end of the sample is fine; anything else undecodable is not text.
  const replacements = (text.match(/\uFFFD/g) ?? []).length;
  if (replacements > (sample.length < bytes.length ? 1 : 0)) return false;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what binary data has
  return !/[\u0000-\u0008\u000E-\u001A\u001C-\u001F\u007F]/.test(text);
}

/**
 * The media type of a document, from its content, never its name. Returns
 * null for anything docproc does not handle.
 */
export function detectMediaType(bytes: Buffer): MediaType | null {
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (startsWith(bytes, [0x42, 0x4d]) && bytes.length > 26) return 'image/bmp';
  if (looksLikeText(bytes)) return 'text/plain';
  return null;
}
