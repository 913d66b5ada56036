import { createHash } from 'node:crypto';
// Deep import: natural's index also loads its storage backends, which read a .env file into process.env.
import { TfIdf } from 'natural/lib/natural/tfidf';
import {
  DEFAULT_TENANT,
  EmptyDocumentError,
  MissingDefinitionError,
  UnsupportedTypeError,
  detectMediaType,
  type Classification,
  type DateOrder,
  type NlpResult,
} from '@docproc/catalog';
import type { StepContext } from '@docproc/runtime';
import { classifyText, trainClassifier, type TrainedClassifier } from './classify';
import { findEntities } from './entities';
import { detectLanguage, languageDetectorLoaded } from '@docproc/language';
import { stopwordsFor } from './stopwords';
import type { StoredClassifiers } from './stored-classifiers';
import { summarize } from './summary';
import { isWord, sentencesOf, stemsOf, tokenize } from './text';

/** What the NLP step reads from the config (each over-ridden per job by the option of the same name). */
export interface NlpSettings {
  dateOrder: DateOrder;
  phoneRegion: string;
  summarySentences: number;
  /** Where classifiers named by jobs come from (none: a job that names one fails). */
  classifiers?: Pick<StoredClassifiers, 'get'>;
}

/** Top TF-IDF terms of the text, its pages being the documents (so terms on every page weigh less). */
export function keywords(pages: string[], count: number, language: string): NlpResult['keywords'] {
  const stop = stopwordsFor(language);
  const tfidf = new TfIdf();
  for (const page of pages) tfidf.addDocument(tokenize(page.toLowerCase()).filter((t) => t.length > 2 && !/^\d+$/.test(t) && !stop.has(t)));
  const scores = new Map<string, number>();
  pages.forEach((_, i) => {
    for (const { term, tfidf: score } of tfidf.listTerms(i)) scores.set(term, (scores.get(term) ?? 0) + score);
  });
  return [...scores.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, count)
    .map(([term, score]) => ({ term, score: Math.round(score * 1000) / 1000 }));
}

/** The document's pages' text: OCR's pages, or a plain-text document split at form feeds. */
async function pagesOf(ctx: StepContext): Promise<string[]> {
  const ocr = await ctx.resultOf('ocr');
  if (ocr) return ocr.pages.length > 0 ? ocr.pages.map((p) => p.text) : ocr.text.split('\f');
  const bytes = await ctx.blobs.get(ctx.payload.blobKey);
  if (bytes.length === 0) throw new EmptyDocumentError();
  if (detectMediaType(bytes) === 'text/plain') return bytes.toString('utf8').split('\f');
  throw new UnsupportedTypeError('NLP reads text: put ocr before nlp in the pipeline, or submit plain text');
}

/** Classifiers from labels given in jobs, by their examples: every document of a job brings the same ones. */
const jobClassifiers = new Map<string, TrainedClassifier>();
const MAX_JOB_CLASSIFIERS = 16;

/** Trained once per distinct set of labelled examples, not once per document. */
function jobClassifier(labels: Record<string, string[]>): TrainedClassifier {
  const key = createHash('sha256').update(JSON.stringify(labels)).digest('hex');
  let classifier = jobClassifiers.get(key);
  if (!classifier) {
    if (jobClassifiers.size >= MAX_JOB_CLASSIFIERS) jobClassifiers.delete(jobClassifiers.keys().next().value!);
    classifier = trainClassifier(labels);
    jobClassifiers.set(key, classifier);
  }
  return classifier;
}

async function classification(ctx: StepContext, settings: NlpSettings, text: string, language: string): Promise<Classification | null> {
  const classify = ctx.payload.options.classify;
  if (!classify) return null;
  if ('labels' in classify) return classifyText(jobClassifier(classify.labels), text, language, 'job');
  if (!settings.classifiers) throw new MissingDefinitionError(`no store to read classifier ${classify.classifier} from`);
  return classifyText(await settings.classifiers.get(ctx.payload.tenant ?? DEFAULT_TENANT, classify.classifier), text, language, classify.classifier);
}

/**
 * The NLP step: language (of the document and of each page), sentences, tokens and their
 * stems, keywords, entities, an extractive summary and, when asked, a label.
 */
export async function nlp(ctx: StepContext, settings: NlpSettings): Promise<NlpResult> {
  const options = ctx.payload.options;
  await languageDetectorLoaded;
  const pageTexts = await pagesOf(ctx);
  const text = pageTexts.join('\f');
  const language = detectLanguage(text);
  const pageTokens = pageTexts.map(tokenize);
  const tokens = pageTokens.flat(); // the tokenizer splits at the form feeds that join the pages
  const pages = pageTexts.map((pageText, index) => {
    const own = detectLanguage(pageText);
    const pageLanguage = own === 'und' ? language : own;
    const sentences = sentencesOf(pageText, index);
    const entities = findEntities({
      text: pageText,
      page: index,
      language: pageLanguage,
      dateOrder: options.dateOrder ?? settings.dateOrder,
      phoneRegion: options.phoneRegion ?? settings.phoneRegion,
    });
    return { index, language: own, wordCount: pageTokens[index]!.filter(isWord).length, sentences, entities };
  });
  const sentences = pages.flatMap((p) => p.sentences);
  return {
    language,
    wordCount: tokens.filter(isWord).length,
    sentenceCount: sentences.length,
    tokens,
    stems: stemsOf(tokens, language),
    pages: pages.map(({ index, language: pageLanguage, wordCount, sentences: own }) => ({
      index,
      language: pageLanguage,
      wordCount,
      sentenceCount: own.length,
    })),
    sentences,
    keywords: keywords(pageTexts, options.keywords ?? 10, language),
    entities: pages.flatMap((p) => p.entities),
    summary: summarize(sentences, language, options.summarySentences ?? settings.summarySentences),
    classification: await classification(ctx, settings, text, language),
  };
}
