/**
 * How far a PDF page's text layer can be trusted, 0..1, and why not more. A layer is
 * someone's claim about the page: typed text (good), an earlier OCR (often good, often
 * not), or glyphs whose font maps them to the wrong characters (mojibake). OCR is cheap
 * next to giving back garbage at confidence 100, so a layer scoring under
 * USABLE_TEXT_SCORE is OCRed instead, as OCRmyPDF's --redo-ocr would.
 */

/** What the PDF reader measured of one page's text layer. */
export interface TextLayerSample {
  text: string;
  /** Share of the text drawn invisibly (rendering mode 3: an earlier OCR's layer), 0..1. */
  invisibleShare: number;
  /** Share of the text placed outside the page, 0..1. */
  offPageShare: number;
}

export interface TextLayerScore {
  score: number;
  /** Words for what lowered the score (empty for a clean layer). */
  reasons: string[];
}

/** From this score a layer is taken as the page's text (`textLayer: "auto"`). */
export const USABLE_TEXT_SCORE = 0.75;

/** Scripts of Tesseract's language codes (Unicode script names); Latin for any not listed. */
const SCRIPT_NAMES: Record<string, string[]> = {
  rus: ['Cyrillic'],
  ukr: ['Cyrillic'],
  bul: ['Cyrillic'],
  srp: ['Cyrillic'],
  mkd: ['Cyrillic'],
  bel: ['Cyrillic'],
  ell: ['Greek'],
  heb: ['Hebrew'],
  ara: ['Arabic'],
  fas: ['Arabic'],
  hin: ['Devanagari'],
  tha: ['Thai'],
  kor: ['Hangul', 'Han'],
  jpn: ['Hiragana', 'Katakana', 'Han'],
  chi_sim: ['Han'],
  chi_tra: ['Han'],
};
const SCRIPTS = Object.fromEntries(
  Object.entries(SCRIPT_NAMES).map(([lang, names]) => [lang, new RegExp(`[${names.map((name) => `\\p{Script=${name}}`).join('')}]`, 'u')]),
);

/** The installed languages written in `script` (a Unicode script name as Tesseract's OSD gives it: Latin for any language not listed). */
export function languagesOfScript(script: string, languages: readonly string[]): string[] {
  // OSD's names for the scripts of CJK languages
  const name = ({ HanS: 'Han', HanT: 'Han', Japanese: 'Hiragana', Korean: 'Hangul' } as Record<string, string>)[script] ?? script;
  return languages.filter((lang) => (SCRIPT_NAMES[lang] ?? ['Latin']).includes(name));
}

/**
 * Whether the language's script sets more ink above its letters' x-height than below it
 * (Latin, Cyrillic, Greek: ascenders and capitals outnumber descenders), so that a line's
 * shape shows which way is up.
 */
export function writtenWithAscenders(language: string): boolean {
  return (SCRIPT_NAMES[language] ?? ['Latin']).every((name) => ['Latin', 'Cyrillic', 'Greek'].includes(name));
}
const LATIN = /\p{Script=Latin}/u;

/** A token that reads as a word or a number, give or take the punctuation around it. */
const WORD = /^[("'“‘«„[]*(\p{L}+(?:['’.-]\p{L}+)*|\p{N}+(?:[.,:/-]\p{N}+)*%?)[)"'”’»\].,;:!?]*$/u;
/** Latin words of four letters or more have a vowel; consonant runs like "xkcdq" are glyph soup. */
const LATIN_VOWEL = /[aeiouyàáâãäåæèéêëìíîïòóôõöøœùúûüýÿ]/iu;
/** Characters no real text layer holds: replacement characters, private-use glyphs, controls. */
const BROKEN = /[\uFFFD\p{Co}\p{Cc}]/gu;

function isWord(token: string): boolean {
  const match = WORD.exec(token);
  if (!match) return false;
  const core = match[1]!;
  if (/^\p{N}/u.test(core) || core.length < 4 || !LATIN.test(core)) return true;
  return LATIN_VOWEL.test(core);
}

/**
 * Scores a text layer for the page's languages: the share of its tokens that read as
 * words, times the share of its letters in the languages' scripts (a byte-swapped or
 * mis-mapped font yields CJK-looking letters for an English page), less broken
 * characters, off-page text and — mildly — invisible text (an earlier OCR: kept when it
 * reads well, redone when it does not).
 */
export function scoreTextLayer(sample: TextLayerSample, languages: readonly string[]): TextLayerScore {
  const reasons: string[] = [];
  const visible = sample.text.replace(/\s+/g, '');
  if (visible.length < 10 || !/\p{L}{3,}/u.test(sample.text)) return { score: 0, reasons: ['too little text'] };

  const tokens = sample.text.split(/\s+/).filter(Boolean);
  const words = tokens.filter(isWord).length / tokens.length;
  if (words < 0.9) reasons.push(`${Math.round((1 - words) * 100)}% of its tokens are not words`);

  const scripts = [...new Set(languages.map((lang) => SCRIPTS[lang] ?? LATIN))];
  const letters = [...visible].filter((c) => /\p{L}/u.test(c));
  const inScript = letters.length === 0 ? 0 : letters.filter((c) => scripts.some((script) => script.test(c))).length / letters.length;
  if (inScript < 0.95) reasons.push(`${Math.round((1 - inScript) * 100)}% of its letters are outside the scripts of ${languages.join('+')}`);

  const broken = (visible.match(BROKEN) ?? []).length / visible.length;
  if (broken > 0) reasons.push(`${Math.round(broken * 100)}% broken characters`);
  if (sample.offPageShare > 0) reasons.push(`${Math.round(sample.offPageShare * 100)}% of it lies off the page`);
  if (sample.invisibleShare > 0) reasons.push(`${Math.round(sample.invisibleShare * 100)}% of it is invisible (an earlier OCR)`);

  const score = words * inScript * (1 - Math.min(1, broken * 5)) * (1 - sample.offPageShare) * (1 - 0.15 * sample.invisibleShare);
  return { score: Math.round(score * 1000) / 1000, reasons };
}
