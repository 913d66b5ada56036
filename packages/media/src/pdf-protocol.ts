/** What readPdf (pdf.ts) and its worker thread (pdf-thread.ts) say to each other. */

export type TextLayerMode = 'auto' | 'use' | 'ignore';

export interface PdfThreadInput {
  bytes: Uint8Array;
  /** Target rendering resolution. */
  dpi: number;
  /** Pages are rendered at a lower resolution rather than with more pixels than this. */
  maxPagePixels: number;
  /** A page holding an image of more pixels than this fails `too_large` (pdf.js decodes images whole). */
  maxImagePixels: number;
  /**
   * What to do with a page's text layer: `auto` takes it when it scores as trustworthy
   * (text-layer.ts) and renders the page for OCR otherwise; `use` takes any layer;
   * `ignore` renders every page.
   */
  textLayer: TextLayerMode;
  /** The page's languages (Tesseract codes), whose scripts the layer's letters should be in. */
  languages: string[];
  /** Pages whose scanned image the caller decodes itself: of these the thread reads only the text layer. */
  scanPages: number[];
  /** Also read each text page's geometry (runs, rules, pictures) for layout analysis. */
  geometry: boolean;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A page's text runs, ruling lines and pictures in pixels at the page's resolution (page-geometry.ts). */
export interface PageGeometry {
  runs: { text: string; bbox: Box; bold: boolean }[];
  rules: Box[];
  figures: Box[];
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
  /** The text layer when it is taken, else null. */
  text: string | null;
  /** The layer's score (0..1) when the page has one, else null. */
  textScore: number | null;
  /** RGBA pixels, width x height, when the page was rendered. */
  pixels?: Uint8Array;
  /** The text page's geometry, when asked for and its text layer was taken. */
  geometry?: PageGeometry;
}

export type PdfThreadMessage =
  | { type: 'opened'; pages: number }
  | PdfPageMessage
  | { type: 'done' }
  | { type: 'error'; code: 'corrupt_document' | 'encrypted_document' | 'too_large'; message: string };
