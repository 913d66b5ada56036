import { runWorker } from '@docproc/runtime';
import type { OcrEngine } from './engine';
import { NativeTesseractEngine, nativeTesseractVersion } from './native-engine';
import { combineDocument, ocr, ocrPage, ocrSettings, type PageText } from './ocr';
import { TesseractEngine } from './tesseract-engine';

void runWorker({
  service: 'worker-ocr',
  step: 'ocr',
  // One page at a time per process, on one core: scale OCR with processes (each page is its own job).
  setup: async (config, logger) => {
    const version = config.ocrEngine === 'auto' ? await nativeTesseractVersion(config.tesseractPath) : null;
    const native = config.ocrEngine === 'tesseract' || (version !== null && version >= 5);
    const engine: OcrEngine = native
      ? new NativeTesseractEngine(config.tesseractPath)
      : new TesseractEngine({ recyclePages: config.ocrRecyclePages, maxMemoryMb: config.ocrMaxMemoryMb, tessdataDir: config.tessdataDir });
    if (config.ocrEngine === 'auto') {
      logger.info(native ? `native Tesseract ${version} found: reading with it` : 'no native Tesseract 5 found: reading with tesseract.js', {
        engine: engine.name,
      });
    }
    await engine.warm(config.ocrLanguages);
    const tessdata = native ? 'system' : (config.tessdataDir ?? 'bundled');
    logger.info('OCR engine ready', { engine: engine.name, languages: config.ocrLanguages, tessdata });
    const settings = ocrSettings(config);
    return {
      processor: (ctx) => ocr(ctx, engine, settings),
      pages: {
        page: (ctx) => ocrPage(ctx, engine, settings),
        combine: (ctx, pages) => combineDocument(ctx, pages as PageText[], engine.name, settings),
      },
      close: () => engine.close(),
      capabilities: { languages: await engine.languages() },
    };
  },
});
