import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RetryableError } from '@docproc/catalog';

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
    if (!existsSync(join(dir, `${lang}.traineddata`)))
      throw new RetryableError(`OCR language "${lang}" is not installed on this worker: no ${lang}.traineddata in ${dir}`);
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
    if (!dir) throw new RetryableError(`OCR language "${lang}" is not installed on this worker (add the @tesseract.js-data/${lang} package)`);
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

/** The languages of the installed @tesseract.js-data packages (osd, orientation data, is not one). */
export function installedLanguagePackages(flavour: Flavour = '4.0.0_best_int'): string[] {
  const found = new Set<string>();
  for (const dir of require.resolve.paths('@tesseract.js-data/eng') ?? []) {
    const scope = join(dir, '@tesseract.js-data');
    if (!existsSync(scope)) continue;
    for (const lang of readdirSync(scope)) if (lang !== 'osd' && languageDataDir(lang, flavour)) found.add(lang);
  }
  return [...found].sort();
}

/** The languages of a directory of plain traineddata files (DOCPROC_TESSDATA_DIR). */
export function systemLanguages(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.traineddata'))
    .map((file) => file.slice(0, -'.traineddata'.length))
    .filter((lang) => lang !== 'osd')
    .sort();
}
