import type { OcrResult } from '@docproc/catalog';

export type PageText = OcrResult['pages'][number];

export interface RecognizeOptions {
  languages: string[];
}

/** An OCR engine: one page image in, its text, confidence and words out. */
export interface OcrEngine {
  readonly name: string;
  recognize(png: Buffer, index: number, options: RecognizeOptions): Promise<PageText>;
  close(): Promise<void>;
}
