// Deep imports: natural's index also loads its storage backends, which read a .env file into process.env.
import { RegexpTokenizer, SentenceTokenizer } from 'natural/lib/natural/tokenizers';
import * as stemmers from 'natural/lib/natural/stemmers';

// Letters and digits of any script: natural's WordTokenizer drops accented letters.
const tokenizer = new RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

export function tokenize(text: string): string[] {
  return tokenizer.tokenize(text) ?? [];
}

export const isWord = (token: string) => /\p{L}/u.test(token);

/** natural's stemmer for each language (ISO 639-3) it has one for. */
const STEMMERS: Record<string, { stem(token: string): string }> = {
  eng: stemmers.PorterStemmer,
  fra: stemmers.PorterStemmerFr,
  deu: stemmers.PorterStemmerDe,
  spa: stemmers.PorterStemmerEs,
  ita: stemmers.PorterStemmerIt,
  nld: stemmers.PorterStemmerNl,
  por: stemmers.PorterStemmerPt,
  swe: stemmers.PorterStemmerSv,
  nob: stemmers.PorterStemmerNo,
  rus: stemmers.PorterStemmerRu,
  ukr: stemmers.PorterStemmerUk,
  pes: stemmers.PorterStemmerFa,
  ind: stemmers.StemmerId,
};

/** Lower-cased stems of the tokens in the language, or null where natural has no stemmer for it. */
export function stemsOf(tokens: string[], language: string): string[] | null {
  return STEMMERS[language] ? tokens.map(termKey(language)) : null;
}

/** The key a token is counted under: its stem where there is a stemmer, else itself, lower-cased. */
export function termKey(language: string): (token: string) => string {
  const stemmer = STEMMERS[language];
  return stemmer ? (t) => stemmer.stem(t.toLowerCase()) : (t) => t.toLowerCase();
}

export interface Sentence {
  text: string;
  page: number;
  /** Offsets in the page's text. */
  start: number;
  end: number;
}

const sentenceTokenizer = new SentenceTokenizer([]);

/**
 * Titles and abbreviations whose full stop ends no sentence. natural's own list matches
 * inside words ("ms." in "items."), so their stop is swapped for a one-dot leader (same
 * length: offsets hold) before splitting, and back after.
 */
const ABBREVIATION =
  /\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Ltd|Co|Corp|No|Nr|Tel|Mme|Mlle|Me|MM|ca|bzw|ggf|vgl|usw|z\.\s?B|d\.\s?h|e\.g|i\.e|etc|vs|approx)\./g;
const LEADER = '\u2024';

/**
 * The page's sentences with where they stand. A blank line or a line that ends without
 * punctuation before a capital ends one too: OCR text has headings, addresses and table
 * rows that no full stop closes, and they must not run into the next sentence.
 */
export function sentencesOf(pageText: string, page: number): Sentence[] {
  // and a dot between digits (15.09.2025, 1.234,56) ends no sentence either
  const masked = pageText.replace(ABBREVIATION, (m) => `${m.slice(0, -1)}${LEADER}`).replace(/(?<=\d)\.(?=\d)/g, LEADER);
  const sentences: Sentence[] = [];
  for (const block of blocksOf(masked)) {
    let cursor = block.start;
    for (const piece of sentenceTokenizer.tokenize(block.text)) {
      const text = piece.trim();
      if (!/\p{L}/u.test(text)) continue;
      const start = masked.indexOf(text, cursor);
      if (start < 0) continue; // the tokenizer changed the text (it should not): leave the piece out rather than misplace it
      cursor = start + text.length;
      sentences.push({ text: pageText.slice(start, cursor).replace(/\s+/g, ' '), page, start, end: cursor });
    }
  }
  return sentences;
}

/** Runs of lines that belong together: split at blank lines and at lines with no closing punctuation. */
function blocksOf(text: string): { text: string; start: number }[] {
  const blocks: { text: string; start: number }[] = [];
  let start = 0;
  for (const match of text.matchAll(/\n\s*\n|(?<![.,;:!?\-–])\n(?=\s*[\p{Lu}\p{N}•·*-])/gu)) {
    blocks.push({ text: text.slice(start, match.index), start });
    start = match.index + match[0].length;
  }
  blocks.push({ text: text.slice(start), start });
  return blocks.filter((b) => b.text.trim() !== '');
}
