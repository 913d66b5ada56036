import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** ../shared/corpus next to the repository: read in place, never copied in. */
export const CORPUS_DIR = resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus');

export interface CorpusExpectation {
  words?: string[];
  pages?: number;
  language?: string;
  outcome?: string;
}

export function corpusAvailable(): boolean {
  return existsSync(join(CORPUS_DIR, 'expected.json'));
}

export function corpusExpected(): Record<string, CorpusExpectation> {
  return JSON.parse(readFileSync(join(CORPUS_DIR, 'expected.json'), 'utf8'));
}

export function corpusFile(name: string): string {
  return join(CORPUS_DIR, name);
}

/** Folds case and whitespace, as expected.json says to compare. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ');
}

/** The expected words missing from `text`. */
export function missingWords(text: string, words: string[]): string[] {
  const folded = normalizeText(text);
  return words.filter((w) => !folded.includes(normalizeText(w)));
}
