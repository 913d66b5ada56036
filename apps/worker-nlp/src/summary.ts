import type { Sentence } from './text';
import { isWord, termKey, tokenize } from './text';
import { stopwordsFor } from './stopwords';

/** Sentences this short are headings, labels or table cells, not statements to sum a document up by. */
const MIN_SUMMARY_WORDS = 5;

/**
 * An extractive summary (Luhn's idea): each sentence scores the mean weight of its terms,
 * a term weighing its frequency in the document over the most frequent term's; the `count`
 * best sentences, in the order they stand.
 */
export function summarize(sentences: Sentence[], language: string, count: number): string[] {
  if (count === 0) return [];
  const stop = stopwordsFor(language);
  const key = termKey(language);
  const termsOf = (s: Sentence) =>
    tokenize(s.text)
      .filter((t) => isWord(t) && !stop.has(t.toLowerCase()))
      .map(key);
  const terms = sentences.map(termsOf);
  const frequency = new Map<string, number>();
  for (const list of terms) for (const term of list) frequency.set(term, (frequency.get(term) ?? 0) + 1);
  const top = Math.max(1, ...frequency.values());
  const scored = sentences
    .map((sentence, i) => ({ i, sentence, words: tokenize(sentence.text).filter(isWord).length, terms: terms[i]! }))
    .filter((s) => s.words >= MIN_SUMMARY_WORDS && s.terms.length > 0)
    .map((s) => ({ ...s, score: s.terms.reduce((sum, t) => sum + frequency.get(t)! / top, 0) / Math.sqrt(s.terms.length) }));
  return scored
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, count)
    .sort((a, b) => a.i - b.i)
    .map((s) => s.sentence.text);
}
