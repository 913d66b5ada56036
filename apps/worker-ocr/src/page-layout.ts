import type { LayoutPage } from '@docproc/catalog';
import { analysePage, letterSize, type PageInput } from '@docproc/layout';
import { findRules, otsuThreshold, readPgm, strokeWidth, type Box } from '@docproc/media';
import type { OcrWord, RecognizedPage } from './engine';

/** Pictures smaller than this share of the page are specks or logos' parts. */
const MIN_PICTURE_SHARE = 0.01;

const inside = (rule: Box, word: Box) => rule.x0 >= word.x0 - 2 && rule.x1 <= word.x1 + 2 && rule.y0 >= word.y0 - 2 && rule.y1 <= word.y1 + 2;

const overlaps = (a: Box, b: Box) => Math.min(a.x1, b.x1) > Math.max(a.x0, b.x0) && Math.min(a.y1, b.y1) > Math.max(a.y0, b.y0);
/** What OCR makes of a ruling line: bars, brackets, underscores and dashes. */
const RULE_LIKE = /^[|[\]\\/!Il1_\-—–=~.,:;'"`’‘]+$/;

/** A word as it stands once the rules it touches are taken out of it: "|" alone goes, "Centre|" loses the bar. */
function withoutRules(word: OcrWord, rules: Box[]): OcrWord[] {
  // underscores alone are a form's blank or a rule half seen: the rules tell those
  if (/^_+$/.test(word.text)) return [];
  if (!rules.some((r) => overlaps(r, word.bbox))) return [word];
  if (RULE_LIKE.test(word.text)) return [];
  const text = word.text.replace(/^[|[\]\\/]+|[|[\]\\/]+$/g, '');
  return text === '' ? [] : [{ ...word, text }];
}

/**
 * An OCR page's layout: Tesseract's lines and words, the ruling lines found in the
 * image (less any inside a word: a letter's stroke), how thick each line's strokes are
 * (bold), and the blocks Tesseract found no words in (pictures).
 */
export function ocrPageLayout(
  index: number,
  pgm: Buffer,
  read: Pick<RecognizedPage, 'words' | 'lines' | 'pictures'>,
  dpi: number | null,
): LayoutPage {
  const image = readPgm(pgm);
  if (!image) throw new Error('the page image is not a PGM');
  const threshold = otsuThreshold(image);
  const rules = findRules(image, dpi ?? 300).filter((rule) => !read.words.some((w) => inside(rule, w.bbox)));
  const lines = read.lines.map((line) => ({ ...line, words: line.words.flatMap((w) => withoutRules(w, rules)) })).filter((l) => l.words.length > 0);
  const area = image.width * image.height;
  const input: PageInput = {
    index,
    width: image.width,
    height: image.height,
    source: 'ocr',
    lines: lines.map((line) => ({
      words: line.words,
      size: letterSize(line.words) ?? line.bbox.y1 - line.bbox.y0,
      bold: null,
      stroke: strokeWidth(image, line.bbox, threshold),
    })),
    rules,
    figures: read.pictures.filter((p) => (p.x1 - p.x0) * (p.y1 - p.y0) >= MIN_PICTURE_SHARE * area),
  };
  return analysePage(input);
}
