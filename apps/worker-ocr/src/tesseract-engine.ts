import { createWorker, OEM, type Worker } from 'tesseract.js';
import type { OcrEngine, PageText, RecognizeOptions } from './engine';
import { languagePath } from './tessdata';

interface TesseractWord {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}

interface TesseractBlock {
  paragraphs: { lines: { words: TesseractWord[] }[] }[];
}

function wordsOf(blocks: TesseractBlock[] | null): PageText['words'] {
  const words: PageText['words'] = [];
  for (const block of blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        for (const w of line.words) {
          if (w.text.trim()) words.push({ text: w.text, confidence: w.confidence, bbox: w.bbox });
        }
      }
    }
  }
  return words;
}

/**
 * tesseract.js (WASM, in a worker thread, so the event loop stays free to
 * renew job locks). One tesseract worker is kept and reused across pages; it
 * is re-created when a job asks for other languages.
 */
export class TesseractEngine implements OcrEngine {
  readonly name = 'tesseract.js';
  private worker: Worker | undefined;
  private workerLanguages = '';

  private async workerFor(languages: string[]): Promise<Worker> {
    const key = languages.join('+');
    if (this.worker && this.workerLanguages === key) return this.worker;
    await this.worker?.terminate();
    this.worker = undefined;
    this.worker = await createWorker(languages, OEM.LSTM_ONLY, {
      langPath: languagePath(languages),
      gzip: true,
      cacheMethod: 'none',
    });
    this.workerLanguages = key;
    return this.worker;
  }

  async recognize(png: Buffer, index: number, options: RecognizeOptions): Promise<PageText> {
    const worker = await this.workerFor(options.languages);
    const { data } = await worker.recognize(png, {}, { text: true, blocks: true });
    const words = wordsOf(data.blocks as TesseractBlock[] | null);
    return { index, text: data.text, confidence: words.length > 0 ? data.confidence : 0, words };
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
