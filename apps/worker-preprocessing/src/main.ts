import { runWorker } from '@docproc/runtime';
import { OrientationDetector } from './orientation';
import { preprocess, type PreprocessSettings } from './preprocess';

void runWorker({
  service: 'worker-preprocessing',
  step: 'preprocess',
  // sharp works on libuv's thread pool, pdf.js and OSD on worker threads: two jobs keep both cores busy.
  defaultConcurrency: 2,
  setup: async (config) => {
    const settings: PreprocessSettings = {
      targetDpi: config.targetDpi,
      maxPagePixels: config.maxPagePixels,
      maxInputPixels: config.maxInputPixels,
      maxPages: config.maxPages,
      maxDocumentBytes: config.maxDocumentBytes,
      pageTimeoutMs: config.pageTimeoutMs,
      deskew: config.deskew,
      rotatePages: config.detectOrientation,
      rotateThreshold: config.rotateThreshold,
      binarize: config.binarize,
    };
    // One detector per concurrent job: a tesseract.js worker reads one page at a time.
    const detectors = Array.from({ length: config.concurrency ?? 2 }, () => new OrientationDetector(config.pageTimeoutMs));
    let next = 0;
    return {
      processor: (ctx) => preprocess(ctx, settings, detectors[next++ % detectors.length]),
      close: async () => void (await Promise.all(detectors.map((d) => d.close()))),
    };
  },
});
