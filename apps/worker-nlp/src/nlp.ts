// Deep imports: natural's index also loads its storage backends, which read a .env file into process.env.
import { TfIdf } from 'natural/lib/natural/tfidf';
import { RegexpTokenizer } from 'natural/lib/natural/tokenizers';
import { franc } from 'franc-min';
import { EmptyDocumentError, UnsupportedTypeError, detectMediaType, type NlpResult } from '@docproc/catalog';
import type { StepContext } from '@docproc/runtime';
import { findEntities } from './entities';
import { stopwordsFor } from './stopwords';

// Letters and digits of any script: natural's WordTokenizer drops accented letters.
const tokenizer = new RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

/** franc needs some text to tell languages apart; below this it answers "und". */
const MIN_LANGUAGE_CHARS = 20;

function tokenize(text: string): string[] {
  return tokenizer.tokenize(text) ?? [];
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

export function detectLanguage(text: string): string {
  return text.replace(/\s+/g, ' ').trim().length < MIN_LANGUAGE_CHARS ? 'und' : franc(text, { minLength: MIN_LANGUAGE_CHARS });
}

async function textOf(ctx: StepContext): Promise<string> {
  const ocr = await ctx.resultOf('ocr');
  if (ocr) return ocr.text;
  const bytes = await ctx.blobs.get(ctx.payload.blobKey);
  if (bytes.length === 0) throw new EmptyDocumentError();
  if (detectMediaType(bytes) === 'text/plain') return bytes.toString('utf8');
  throw new UnsupportedTypeError('NLP reads text: put ocr before nlp in the pipeline, or submit plain text');
}

/** The NLP step: tokens, word count, language, keywords and entities of the document's text. */
export async function nlp(ctx: StepContext): Promise<NlpResult> {
  const text = await textOf(ctx);
  const tokens = tokenize(text);
  const language = detectLanguage(text);
  return {
    language,
    wordCount: tokens.filter((t) => /\p{L}/u.test(t)).length,
    tokens,
    keywords: keywords(text.split('\f'), ctx.payload.options.keywords ?? 10, language),
    entities: findEntities(text),
  };
}
