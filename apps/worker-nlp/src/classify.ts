// Deep import: natural's index also loads its storage backends, which read a .env file into process.env.
import { BayesClassifier, LogisticRegressionClassifier } from 'natural/lib/natural/classifiers';
import type { Classification } from '@docproc/catalog';
import { detectLanguage } from '@docproc/language';
import { stopwordsFor } from './stopwords';
import { isWord, termKey, tokenize } from './text';

export type Algorithm = 'bayes' | 'logistic';

/**
 * A document is told by its most frequent terms: natural's Bayes multiplies one
 * probability per term present, and a whole long document's product underflows to 0 for
 * every label.
 */
const FEATURE_TERMS = 60;

/** The terms a text is classified by: its most frequent stems (in its own language) that are not stopwords. */
function featuresOf(text: string, language = detectLanguage(text)): string[] {
  const stop = stopwordsFor(language);
  const key = termKey(language);
  const counts = new Map<string, number>();
  for (const token of tokenize(text)) {
    const lower = token.toLowerCase();
    if (!isWord(token) || lower.length < 3 || stop.has(lower)) continue;
    const term = key(lower);
    counts.set(term, (counts.get(term) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, FEATURE_TERMS)
    .map(([term]) => term);
}

export type TrainedClassifier = BayesClassifier | LogisticRegressionClassifier;

/** A classifier trained on labelled example texts (each label needs at least one). */
export function trainClassifier(labels: Record<string, string[]>, algorithm: Algorithm = 'bayes'): TrainedClassifier {
  const classifier = algorithm === 'bayes' ? new BayesClassifier() : new LogisticRegressionClassifier();
  for (const [label, texts] of Object.entries(labels)) for (const text of texts) classifier.addDocument(featuresOf(text), label);
  classifier.train();
  return classifier;
}

/** The classifier as JSON (natural's own form), for the classifier store. */
export const serializeClassifier = (classifier: TrainedClassifier): string => JSON.stringify(classifier);

export function restoreClassifier(json: string, algorithm: Algorithm): TrainedClassifier {
  const data = JSON.parse(json) as Record<string, unknown>;
  return algorithm === 'bayes' ? BayesClassifier.restore(data) : LogisticRegressionClassifier.restore(data);
}

/**
 * Below this share of a document's terms that the classifier has seen in its examples, the
 * document is like none of its labels: the label is null (the best guess stays the runner-up).
 * Measured with a classifier of 72 generated documents: other generated letters, reminders and
 * invoices 0.91-1.0; the corpus's novel (francais.pdf) and multipage.pdf, and English prose,
 * 0.04-0.07.
 */
const MIN_KNOWN = 0.2;

/** The best label, its share of the classifier's belief, and the runner-up. */
export function classifyText(classifier: TrainedClassifier, text: string, language: string, name: string): Classification | null {
  const features = featuresOf(text, language);
  const vocabulary = (classifier as unknown as { features: Record<string, number> }).features;
  const known = features.length === 0 ? 0 : features.filter((f) => Object.hasOwn(vocabulary, f)).length / features.length;
  const ranked = classifier.getClassifications(features);
  const total = ranked.reduce((sum, c) => sum + Math.max(0, c.value), 0);
  const [best, second] = ranked;
  if (!best) return null;
  const share = (value: number) => (total > 0 ? Math.round((Math.max(0, value) / total) * 1000) / 1000 : 1 / ranked.length);
  const knownShare = Math.round(known * 1000) / 1000;
  if (known < MIN_KNOWN)
    return {
      label: null,
      confidence: 0,
      runnerUp: { label: String(best.label), confidence: share(best.value) },
      known: knownShare,
      classifier: name,
    };
  return {
    label: String(best.label),
    confidence: share(best.value),
    runnerUp: second ? { label: String(second.label), confidence: share(second.value) } : null,
    known: knownShare,
    classifier: name,
  };
}
