import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UnsupportedTypeError } from '@docproc/catalog';

/**
 * The traineddata flavours of the @tesseract.js-data packages: "best" LSTM
 * models quantised to integers (fast on CPU), and the full 4.0.0 data that
 * also holds the legacy engine (needed for oem 0, 2 and 3).
 */
export type Flavour = '4.0.0_best_int' | '4.0.0';

/** Where `@tesseract.js-data/<lang>` keeps its traineddata, or null when it is not installed. */
export function languageDataDir(lang: string, flavour: Flavour = '4.0.0_best_int'): string | null {
  try {
    const dir = join(dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)), flavour);
    return existsSync(join(dir, `${lang}.traineddata.gz`)) ? dir : null;
  } catch {
    return null;
  }
}

/** The directory of plain traineddata files that holds every language asked for (DOCPROC_TESSDATA_DIR). */
export function systemLanguagePath(languages: string[], dir: string): string {
  for (const lang of languages) {
    if (!existsSync(join(dir, `${lang}.traineddata`))) throw new UnsupportedTypeError(`OCR language "${lang}" is not in ${dir}`);
  }
  return dir;
}

/**
 * tesseract.js reads every language from one directory, while each language
 * comes in its own npm package: gather the requested ones as links in one
 * directory. No network: a language that is not installed is an error.
 */
export function languagePath(languages: string[], flavour: Flavour = '4.0.0_best_int'): string {
  const dirs = languages.map((lang) => {
    const dir = languageDataDir(lang, flavour);
    if (!dir) throw new UnsupportedTypeError(`OCR language "${lang}" is not installed (add the @tesseract.js-data/${lang} package)`);
    return dir;
  });
  const unique = [...new Set(dirs)];
  if (unique.length === 1) return unique[0]!;
  const gathered = join(tmpdir(), `docproc-tessdata-${process.pid}-${flavour}`);
  mkdirSync(gathered, { recursive: true });
  languages.forEach((lang, i) => {
    const link = join(gathered, `${lang}.traineddata.gz`);
    if (!existsSync(link)) symlinkSync(join(dirs[i]!, `${lang}.traineddata.gz`), link);
  });
  return gathered;
}
