import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UnsupportedTypeError } from '@docproc/catalog';

/** The traineddata flavour: "best" models quantised to integers, fast on CPU. */
const FLAVOUR = '4.0.0_best_int';

/** Where `@tesseract.js-data/<lang>` keeps its traineddata, or null when it is not installed. */
export function languageDataDir(lang: string): string | null {
  try {
    const dir = join(dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)), FLAVOUR);
    return existsSync(join(dir, `${lang}.traineddata.gz`)) ? dir : null;
  } catch {
    return null;
  }
}

/**
 * tesseract.js reads every language from one directory, while each language
 * comes in its own npm package: gather the requested ones as links in one
 * directory. No network: a language that is not installed is an error.
 */
export function languagePath(languages: string[]): string {
  const dirs = languages.map((lang) => {
    const dir = languageDataDir(lang);
    if (!dir) throw new UnsupportedTypeError(`OCR language "${lang}" is not installed (add the @tesseract.js-data/${lang} package)`);
    return dir;
  });
  const unique = [...new Set(dirs)];
  if (unique.length === 1) return unique[0]!;
  const gathered = join(tmpdir(), `docproc-tessdata-${process.pid}`);
  mkdirSync(gathered, { recursive: true });
  languages.forEach((lang, i) => {
    const link = join(gathered, `${lang}.traineddata.gz`);
    if (!existsSync(link)) symlinkSync(join(dirs[i]!, `${lang}.traineddata.gz`), link);
  });
  return gathered;
}
