import type { LayoutPage } from '@docproc/catalog';
import { analysePage, type PageInput } from '@docproc/layout';
import { findRules, otsuThreshold, readPgm, strokeWidth, type Box } from '@docproc/media';
import type { RecognizedPage } from './engine';

/** Pictures smaller than this share of the page are specks or logos' parts. */
const MIN_PICTURE_SHARE = 0.01;

const inside = (rule: Box, word: Box) => rule.x0 >= word.x0 - 2 && rule.x1 <= word.x1 + 2 && rule.y0 >= word.y0 - 2 && rule.y1 <= word.y1 + 2;

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
  const area = image.width * image.height;
  const input: PageInput = {
    index,
    width: image.width,
    height: image.height,
    source: 'ocr',
    lines: read.lines.map((line) => ({
      words: line.words,
      size: line.bbox.y1 - line.bbox.y0,
      bold: null,
      stroke: strokeWidth(image, line.bbox, threshold),
    })),
    rules,
    figures: read.pictures.filter((p) => (p.x1 - p.x0) * (p.y1 - p.y0) >= MIN_PICTURE_SHARE * area),
  };
  return analysePage(input);
}
