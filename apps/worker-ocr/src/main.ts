import { runWorker } from '@docproc/runtime';
import { ocr } from './ocr';
import { TesseractEngine } from './tesseract-engine';

void runWorker({
  service: 'worker-ocr',
  step: 'ocr',
  // tesseract.js uses one core per page: scale OCR with processes, not concurrency.
  defaultConcurrency: 1,
  setup: async (config) => {
    const engine = new TesseractEngine();
    return { processor: (ctx) => ocr(ctx, engine, config.ocrLanguages), close: () => engine.close() };
  },
});
