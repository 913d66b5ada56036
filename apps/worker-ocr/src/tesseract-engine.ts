import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { TESSERACT_QUIET, untilStopped } from '@docproc/runtime';
import { meanWordConfidence, readTsv, type OcrEngine, type RecognizedPage, type RecognizeOptions } from './engine';
import { installedLanguagePackages, languagePath, systemLanguagePath, systemLanguages } from './tessdata';

export interface TesseractEngineOptions {
  /** Replace the worker after this many pages: tesseract.js's WASM memory only grows. */
  recyclePages: number;
  /** ... or once the process's resident memory passes this many MiB. */
  maxMemoryMb: number;
  /** Plain traineddata files to read instead of the @tesseract.js-data packages (LSTM only). */
  tessdataDir?: string;
}

/**
 * tesseract.js (WASM, in a worker thread, so the event loop stays free to
 * renew job locks). One tesseract worker is kept and reused across pages; it
 * is made again when a job asks for other languages or another engine mode,
 * after `recyclePages` pages or past `maxMemoryMb`, and after a page that ran
 * past its time limit (the only way to stop it).
 */
export class TesseractEngine implements OcrEngine {
  readonly name = 'tesseract.js';
  private worker: Worker | undefined;
  private workerKey = '';
  private parameters = '';
  private pages = 0;

  constructor(private readonly options: TesseractEngineOptions) {}

  private async workerFor(languages: string[], oem: number): Promise<Worker> {
    const key = `${languages.join('+')}/${oem}`;
    const worn = this.pages >= this.options.recyclePages || process.memoryUsage.rss() > this.options.maxMemoryMb * 1024 * 1024;
    if (this.worker && this.workerKey === key && !worn) return this.worker;
    await this.close();
    const legacy = oem !== OEM.LSTM_ONLY;
    const system = this.options.tessdataDir !== undefined && !legacy;
    this.worker = await createWorker(languages, oem, {
      langPath: system ? systemLanguagePath(languages, this.options.tessdataDir!) : languagePath(languages, legacy ? '4.0.0' : '4.0.0_best_int'),
      gzip: !system,
      cacheMethod: 'none',
      legacyCore: legacy,
      legacyLang: legacy,
    });
    this.workerKey = key;
    return this.worker;
  }

  async recognize(image: Buffer, options: RecognizeOptions): Promise<RecognizedPage> {
    const worker = await this.workerFor(options.languages, options.oem ?? OEM.LSTM_ONLY);
    // A known resolution helps layout analysis; 0 lets Tesseract estimate it (PGM carries none).
    const parameters = {
      ...TESSERACT_QUIET,
      tessedit_pageseg_mode: String(options.psm ?? PSM.AUTO) as PSM,
      user_defined_dpi: String(options.dpi ?? 0),
    };
    if (JSON.stringify(parameters) !== this.parameters) {
      await worker.setParameters(parameters);
      this.parameters = JSON.stringify(parameters);
    }
    // Aborted while the worker was being made: stop before posting the page. Terminating
    // tesseract.js between `recognize()` and its post leaves a rejection nobody can catch.
    options.signal?.throwIfAborted();
    this.pages++;
    // TSV rather than `blocks`: the same words and boxes without building every symbol's JSON.
    const { data } = await untilStopped(worker.recognize(image, {}, { text: true, tsv: true, hocr: options.hocr ?? false }), {
      signal: options.signal,
      timeout: { ms: options.timeoutMs, message: `OCR of the page took longer than ${options.timeoutMs} ms` },
      onStop: () => this.close(), // the only way to stop a page tesseract.js is reading
    });
    const read = readTsv(data.tsv ?? '');
    return { text: data.text, confidence: meanWordConfidence(read.words), ...read, ...(options.hocr && data.hocr ? { hocr: data.hocr } : {}) };
  }

  async languages(): Promise<string[]> {
    return this.options.tessdataDir !== undefined ? systemLanguages(this.options.tessdataDir) : installedLanguagePackages();
  }

  async warm(languages: string[]): Promise<void> {
    await this.workerFor(languages, OEM.LSTM_ONLY);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.workerKey = '';
    this.parameters = '';
    this.pages = 0;
    await worker?.terminate().catch(() => undefined);
  }
}
