import type { OcrResult } from '@docproc/catalog';

export type OcrWord = OcrResult['pages'][number]['words'][number];

export interface RecognizeOptions {
  languages: string[];
  /** Tesseract page segmentation mode; 3 (fully automatic) by default. */
  psm?: number;
  /** Tesseract engine mode; 1 (LSTM only) by default. */
  oem?: number;
  /** The page's resolution when known; else Tesseract estimates it from the text. */
  dpi?: number | null;
  /** Also produce the page's hOCR. */
  hocr?: boolean;
  /** Longest time the page may take; past it the engine is reset and the page fails with `timeout`. */
  timeoutMs: number;
  /** Aborts the page (cancel, the task's time limit): the engine stops it and rejects with the reason. */
  signal?: AbortSignal;
}

/** What an engine reads off one page. */
export interface RecognizedPage {
  text: string;
  /** Mean word confidence, 0-100 (0 without words). */
  confidence: number;
  words: OcrWord[];
  hocr?: string;
}

/** An OCR engine: one page image (greyscale PNG or PGM) in, its text, confidence and words out. */
export interface OcrEngine {
  readonly name: string;
  recognize(image: Buffer, options: RecognizeOptions): Promise<RecognizedPage>;
  /** The languages this engine has installed (what a job's options.languages may name). */
  languages(): Promise<string[]>;
  /** Loads what the first page would otherwise wait for (the model), at start-up. */
  warm(languages: string[]): Promise<void>;
  close(): Promise<void>;
}

/** Mean of the words' confidences, rounded to two decimals; 0 without words. */
export function meanWordConfidence(words: OcrWord[]): number {
  if (words.length === 0) return 0;
  const sum = words.reduce((s, w) => s + w.confidence, 0);
  return Math.round((sum / words.length) * 100) / 100;
}

/**
 * Words from Tesseract's TSV output (both engines give it): level 5 rows are
 * words with their box and confidence.
 */
export function wordsFromTsv(tsv: string): OcrWord[] {
  const words: OcrWord[] = [];
  for (const line of tsv.split('\n')) {
    const cols = line.split('\t');
    if (cols[0] !== '5' || cols.length < 12) continue;
    const text = cols.slice(11).join('\t').trim();
    const confidence = Number(cols[10]);
    if (!text || !(confidence >= 0)) continue;
    const [left, top, width, height] = cols.slice(6, 10).map(Number) as [number, number, number, number];
    words.push({ text, confidence: Math.round(confidence * 100) / 100, bbox: { x0: left, y0: top, x1: left + width, y1: top + height } });
  }
  return words;
}
