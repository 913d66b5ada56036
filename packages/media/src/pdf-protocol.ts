/** What readPdf (pdf.ts) and its worker thread (pdf-thread.ts) say to each other. */

export interface PdfThreadInput {
  bytes: Uint8Array;
  /** Target rendering resolution. */
  dpi: number;
  /** Pages are rendered at a lower resolution rather than with more pixels than this. */
  maxPagePixels: number;
  /** Read each page's text layer (and skip rendering pages whose text is usable). */
  useTextLayer: boolean;
  /** Render every page, even those with a usable text layer. */
  forceOcr: boolean;
}

export interface PdfPageMessage {
  type: 'page';
  index: number;
  /** Page size in PDF points (1/72 inch). */
  widthPt: number;
  heightPt: number;
  dpi: number;
  /** Pixel size at `dpi`. */
  width: number;
  height: number;
  /** The text layer when it is usable, else null. */
  text: string | null;
  /** RGBA pixels, width x height, when the page was rendered. */
  pixels?: Uint8Array;
}

export type PdfThreadMessage =
  | { type: 'opened'; pages: number }
  | PdfPageMessage
  | { type: 'done' }
  | { type: 'error'; code: 'corrupt_document' | 'encrypted_document'; message: string };

/**
 * A text layer is usable when it reads as words: enough letters or digits,
 * and most characters are not stray symbols (a font without a Unicode map
 * yields gibberish that OCR would beat).
 */
export function isUsableText(text: string): boolean {
  const visible = text.replace(/\s+/g, '');
  if (visible.length < 10) return false;
  const wordish = (visible.match(/[\p{L}\p{N}]/gu) ?? []).length;
  return wordish / visible.length >= 0.6 && /\p{L}{3,}/u.test(text);
}
