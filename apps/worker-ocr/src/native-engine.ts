import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RetryableError, StepTimeoutError } from '@docproc/catalog';
import { meanWordConfidence, readTsv, type OcrEngine, type RecognizedPage, type RecognizeOptions } from './engine';

/** Runs the binary; `code` is its exit code, or the spawn error's code ("ENOENT") when it could not start. */
function run(
  binary: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ code: number | string | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    // One thread per page: with OpenMP on two cores Tesseract ran ten times slower here; scale with processes.
    const child = execFile(
      binary,
      args,
      // eslint-disable-next-line no-restricted-properties -- the child inherits the environment, plus one setting
      { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, timeout: timeoutMs, killSignal: 'SIGKILL', signal },
      (err, stdout, stderr) => {
        const timedOut = (err as { killed?: boolean } | null)?.killed === true;
        resolve({ code: err ? ((err as { code?: number | string }).code ?? null) : 0, stdout: String(stdout), stderr: String(stderr), timedOut });
      },
    );
    child.stdin?.end();
  });
}

/** The major version of the native binary, or null when it cannot be run. */
export async function nativeTesseractVersion(binary: string): Promise<number | null> {
  const { code, stdout, stderr } = await run(binary, ['--version'], 10_000);
  const major = /tesseract v?(\d+)\./i.exec(`${stdout}\n${stderr}`)?.[1];
  return code === 0 && major ? Number(major) : null;
}

/**
 * The native `tesseract` binary (Debian's tesseract-ocr): 1.25x the pages a minute of
 * tesseract.js in the pipeline at the same accuracy (docs/benchmarks.md), so `auto` — the
 * default — takes it wherever a Tesseract 5 is installed. Its language data is the
 * system's (tesseract-ocr-<lang> packages).
 */
export class NativeTesseractEngine implements OcrEngine {
  readonly name = 'tesseract';

  constructor(private readonly binary = 'tesseract') {}

  async recognize(image: Buffer, options: RecognizeOptions): Promise<RecognizedPage> {
    const dir = await mkdtemp(join(tmpdir(), 'docproc-ocr-'));
    try {
      const input = join(dir, 'page');
      await writeFile(input, image);
      const out = join(dir, 'out');
      const args = [
        input,
        out,
        '-l',
        options.languages.join('+'),
        '--psm',
        String(options.psm ?? 3),
        '--oem',
        String(options.oem ?? 1),
        'txt',
        'tsv',
      ];
      if (options.dpi) args.splice(2, 0, '--dpi', String(options.dpi));
      if (options.hocr) args.push('hocr');
      const { code, stderr, timedOut } = await run(this.binary, args, options.timeoutMs, options.signal);
      options.signal?.throwIfAborted();
      if (timedOut) throw new StepTimeoutError(`OCR of the page took longer than ${options.timeoutMs} ms`);
      if (code !== 0) {
        if (/Failed loading language|Error opening data file/i.test(stderr)) {
          throw new RetryableError(
            `OCR language "${options.languages.join('+')}" is not installed on this worker's native engine (Debian: tesseract-ocr-<lang>)`,
          );
        }
        throw new Error(`tesseract exited with code ${code}: ${stderr.trim().split('\n').pop()}`);
      }
      const [text, tsv, hocr] = await Promise.all([
        readFile(`${out}.txt`, 'utf8'),
        readFile(`${out}.tsv`, 'utf8'),
        options.hocr ? readFile(`${out}.hocr`, 'utf8') : Promise.resolve(undefined),
      ]);
      const read = readTsv(tsv);
      return { text, confidence: meanWordConfidence(read.words), ...read, ...(hocr ? { hocr } : {}) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async detectScript(image: Buffer, options: Pick<RecognizeOptions, 'timeoutMs' | 'signal'>): Promise<string | null> {
    const dir = await mkdtemp(join(tmpdir(), 'docproc-osd-'));
    try {
      await writeFile(join(dir, 'page'), image);
      const { code, stdout } = await run(this.binary, [join(dir, 'page'), '-', '--psm', '0'], options.timeoutMs, options.signal);
      return code === 0 ? (/^Script: (\S+)/m.exec(stdout)?.[1] ?? null) : null;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async languages(): Promise<string[]> {
    const { code, stdout } = await run(this.binary, ['--list-langs'], 10_000);
    if (code !== 0) return [];
    return stdout
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .filter((lang) => lang !== '' && lang !== 'osd')
      .sort();
  }

  /** Fails start-up with a clear message when the binary is missing, rather than every page later. */
  async warm(): Promise<void> {
    const { code, stderr } = await run(this.binary, ['--list-langs'], 10_000);
    if (code !== 0)
      throw new Error(
        `DOCPROC_OCR_ENGINE=tesseract, but "${this.binary} --list-langs" failed (${stderr.trim() || `exit code ${code}`}): install tesseract-ocr or set DOCPROC_TESSERACT_PATH`,
      );
  }

  async close(): Promise<void> {}
}
