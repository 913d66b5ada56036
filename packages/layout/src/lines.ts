import type { LayoutLine } from '@docproc/catalog';
import { median, rounded, union } from './geometry';
import type { InputLine } from './input';

/** A line as the analysis works with it: its words, box, text and style settled. */
export interface Line extends LayoutLine {
  size: number;
  bold: boolean;
}

/** Starts of list items: bullets, and numbers or letters followed by "." or ")". */
const LIST_MARK = /^(?:[•·▪◦‣∙●○■□►➢*–-]|\(?(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)])$/i;

export const startsListItem = (line: Line) => LIST_MARK.test(line.words[0]?.text ?? '') && line.words.length > 1;

/**
 * A line cut where its words stand further apart than a letter height: OCR reads a
 * table's row, or two columns' lines side by side, as one line.
 */
function splitAtGaps(line: InputLine): InputLine[] {
  const words = [...line.words].sort((a, b) => a.bbox.x0 - b.bbox.x0);
  const pieces: InputLine[] = [];
  let current: InputLine['words'] = [];
  for (const word of words) {
    const last = current[current.length - 1];
    if (last && word.bbox.x0 - last.bbox.x1 > line.size) {
      pieces.push({ ...line, words: current });
      current = [];
    }
    current.push(word);
  }
  if (current.length > 0) pieces.push({ ...line, words: current });
  return pieces;
}

/**
 * The page's lines, cut at wide gaps, with bold settled: a line without a font's word
 * on it is bold when its strokes are a quarter thicker, for its size, than most of the page's.
 */
export function settleLines(input: readonly InputLine[]): Line[] {
  const pieces = input.flatMap(splitAtGaps).filter((l) => l.words.length > 0);
  const ratios = pieces.filter((l) => l.stroke !== undefined && l.size > 0).flatMap((l) => l.words.map(() => l.stroke! / l.size));
  const usual = median(ratios);
  return pieces.map((l) => ({
    text: l.words.map((w) => w.text).join(' '),
    bbox: rounded(union(l.words.map((w) => w.bbox))),
    words: l.words.map((w) => ({ ...w, bbox: rounded(w.bbox) })),
    size: l.size,
    bold: l.bold ?? (l.stroke !== undefined && usual > 0 && l.stroke / l.size > 1.25 * usual),
  }));
}
