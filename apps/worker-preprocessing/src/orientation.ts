import { dirname, join } from 'node:path';
import { createWorker, OEM, type Worker } from 'tesseract.js';
import { TESSERACT_QUIET, untilStopped } from '@docproc/runtime';

export interface Orientation {
  /** Degrees to turn the page clockwise to stand it upright: 0, 90, 180 or 270. */
  degrees: number;
  /** Tesseract's orientation confidence (OCRmyPDF turns pages above 14 by default; ours is configurable). */
  confidence: number;
}

/** Where @tesseract.js-data/osd keeps the orientation and script model (legacy engine data). */
function osdDataDir(): string {
  return join(dirname(require.resolve('@tesseract.js-data/osd/package.json')), '4.0.0_best_int');
}

/**
 * Orientation detection by Tesseract's OSD (the legacy engine, offline data
 * from @tesseract.js-data/osd), as OCRmyPDF's --rotate-pages does. One
 * tesseract.js worker thread is kept and reused; one that runs past the time
 * limit is terminated and made again for the next page.
 */
export class OrientationDetector {
  private worker: Promise<Worker> | undefined;

  constructor(private readonly timeoutMs: number) {}

  private start(): Promise<Worker> {
    this.worker ??= createWorker('osd', OEM.TESSERACT_ONLY, {
      langPath: osdDataDir(),
      gzip: true,
      cacheMethod: 'none',
      legacyCore: true,
      legacyLang: true,
    }).then(async (worker) => {
      await worker.setParameters(TESSERACT_QUIET);
      return worker;
    });
    return this.worker;
  }

  /**
   * The page's orientation, or null when it has too little text to tell. `png` must be a
   * decodable image. Past the time limit, or when `signal` aborts, the thread is ended.
   */
  async detect(png: Buffer, signal?: AbortSignal): Promise<Orientation | null> {
    const worker = await this.start();
    const { data } = await untilStopped(worker.detect(png), {
      signal,
      timeout: { ms: this.timeoutMs, message: `orientation detection took longer than ${this.timeoutMs} ms` },
      onStop: () => this.close(),
    });
    if (data.orientation_degrees === null || data.orientation_confidence === null) return null;
    return { degrees: data.orientation_degrees, confidence: data.orientation_confidence };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await (await worker)?.terminate().catch(() => undefined);
  }
}
