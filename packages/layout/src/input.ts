import type { Box } from '@docproc/catalog';

/**
 * What layout analysis reads off one page, whatever made it: OCR (Tesseract's lines and
 * words, ruling lines found in the image) or a PDF's text layer (pdf.js text items, the
 * page's vector lines). Coordinates are pixels of the page as it was read, y down.
 */
export interface InputWord {
  text: string;
  bbox: Box;
  confidence?: number;
}

export interface InputLine {
  words: InputWord[];
  /** Height of the line's letters in pixels (ascender to descender). */
  size: number;
  /** From the font when known (text layer); null when it must be judged from `stroke`. */
  bold: boolean | null;
  /** Mean stroke width of the line's ink in pixels (scans), to tell bold from regular. */
  stroke?: number;
}

/** A ruling line: horizontal (y0 ≈ y1) or vertical (x0 ≈ x1). */
export type Rule = Box;

export interface PageInput {
  index: number;
  width: number;
  height: number;
  source: 'ocr' | 'text-layer' | 'text';
  lines: InputLine[];
  rules: Rule[];
  /** Pictures on the page (drawn images; image regions OCR found no text in). */
  figures: Box[];
}
