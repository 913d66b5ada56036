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

/** A line as Tesseract's layout analysis found it, with its words. */
interface TsvLine {
  words: OcrWord[];
  bbox: OcrWord['bbox'];
}

/** What an engine reads off one page. */
export interface RecognizedPage {
  text: string;
  /** Mean word confidence, 0-100 (0 without words). */
  confidence: number;
  words: OcrWord[];
  /** The page's lines (layout analysis reads them). */
  lines: TsvLine[];
  /** Blocks Tesseract set apart but found no words in: pictures. */
  pictures: OcrWord['bbox'][];
  hocr?: string;
}

/** An OCR engine: one page image (greyscale PNG or PGM) in, its text, confidence and words out. */
export interface OcrEngine {
  readonly name: string;
  recognize(image: Buffer, options: RecognizeOptions): Promise<RecognizedPage>;
  /** The languages this engine has installed (what a job's options.languages may name). */
  languages(): Promise<string[]>;
  /** The page's script as Tesseract's orientation and script detection names it ("Latin", "Cyrillic"...), or null when it cannot tell. */
  detectScript?(image: Buffer, options: Pick<RecognizeOptions, 'timeoutMs' | 'signal'>): Promise<string | null>;
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
 * Words, lines and empty blocks from Tesseract's TSV output (both engines give it):
 * level 2 rows are blocks, level 4 lines, level 5 words with their box and confidence.
 */
export function readTsv(tsv: string): Pick<RecognizedPage, 'words' | 'lines' | 'pictures'> {
  const words: OcrWord[] = [];
  const lines = new Map<string, TsvLine>();
  const blocks = new Map<string, { bbox: OcrWord['bbox']; words: number }>();
  for (const row of tsv.split('\n')) {
    const cols = row.split('\t');
    if (cols.length < 12) continue;
    const [left, top, width, height] = cols.slice(6, 10).map(Number) as [number, number, number, number];
    const bbox = { x0: left, y0: top, x1: left + width, y1: top + height };
    const block = cols.slice(1, 3).join('.');
    if (cols[0] === '2') blocks.set(block, { bbox, words: 0 });
    if (cols[0] === '4') lines.set(cols.slice(1, 5).join('.'), { words: [], bbox });
    if (cols[0] !== '5') continue;
    const text = cols.slice(11).join('\t').trim();
    const confidence = Number(cols[10]);
    if (!text || !(confidence >= 0)) continue;
    const word = { text, confidence: Math.round(confidence * 100) / 100, bbox };
    words.push(word);
    lines.get(cols.slice(1, 5).join('.'))?.words.push(word);
    const owner = blocks.get(block);
    if (owner) owner.words++;
  }
  return {
    words,
    lines: [...lines.values()].filter((l) => l.words.length > 0),
    pictures: [...blocks.values()].filter((b) => b.words === 0).map((b) => b.bbox),
  };
}
