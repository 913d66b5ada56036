import { runWorker } from '@docproc/runtime';
import { OrientationDetector } from './orientation';
import { preprocess, preprocessSettings } from './preprocess';

void runWorker({
  service: 'worker-preprocessing',
  step: 'preprocess',
  // sharp works on libuv's thread pool, pdf.js and OSD on worker threads: two jobs keep both cores busy.
  setup: async (config) => {
    const settings = preprocessSettings(config);
    // One detector per running job (a tesseract.js worker reads one page at a time): a job
    // takes a free one, or makes one, and gives it back; there are never more than the concurrency.
    const detectors: OrientationDetector[] = [];
    const free: OrientationDetector[] = [];
    return {
      processor: async (ctx) => {
        let detector = free.pop();
        if (!detector) detectors.push((detector = new OrientationDetector(config.pageTimeoutMs)));
        try {
          return await preprocess(ctx, settings, detector);
        } finally {
          free.push(detector);
        }
      },
      close: async () => void (await Promise.all(detectors.map((d) => d.close()))),
    };
  },
});
