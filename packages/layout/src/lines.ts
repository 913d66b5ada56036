import type { LayoutLine } from '@docproc/catalog';
import { median, rounded, union } from './geometry';
import type { InputLine } from './input';

/** A line as the analysis works with it: its words, box, text and style settled. */
export interface Line extends LayoutLine {
  size: number;
  bold: boolean;
}

/** Starts of list items: bullets, and numbers or letters followed by "." or ")". */
export const LIST_MARK = /^(?:[•·▪◦‣∙●○■□►➢*–-]|\(?(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)])$/i;

export const startsListItem = (line: Line) => LIST_MARK.test(line.words[0]?.text ?? '') && line.words.length > 1;

/**
 * Words further apart than this many letter heights stand in different columns (a table's,
 * or the page's): justified book text spaces its words up to about one.
 */
const WIDE_GAP = 1.5;

/**
 * A line cut where its words stand wide apart: OCR reads a table's row, or two columns'
 * lines side by side, as one line.
 */
function splitAtGaps(line: InputLine): InputLine[] {
  const words = [...line.words].sort((a, b) => a.bbox.x0 - b.bbox.x0);
  const pieces: InputLine[] = [];
  let current: InputLine['words'] = [];
  for (const word of words) {
    const last = current[current.length - 1];
    if (last && word.bbox.x0 - last.bbox.x1 > WIDE_GAP * line.size && !(current.length === 1 && isMark(last))) {
      pieces.push({ ...line, words: current });
      current = [];
    }
    current.push(word);
  }
  if (current.length > 0) pieces.push({ ...line, words: current });
  return pieces;
}

/** What OCR reads a bullet as: a lone mark at a line's start, standing apart from the text. */
const BULLET_READ_AS = /^(?:[•·▪◦‣∙●○■□►➢*¢°«»©@_~+-]{1,3}|[oe])$/;

/** A line whose first word is a bullet read as something else, with the bullet given back. */
function withBullet(line: InputLine): InputLine {
  const [first, second] = line.words;
  if (!first || !second || !BULLET_READ_AS.test(first.text) || second.bbox.x0 - first.bbox.x1 < 0.6 * line.size) return line;
  return { ...line, words: [{ ...first, text: '•' }, ...line.words.slice(1)] };
}

/** A bullet OCR set on a line of its own, put back at the start of the text beside it. */
function withLoneBullets(lines: InputLine[]): InputLine[] {
  const centre = (l: InputLine) => (l.words[0]!.bbox.y0 + l.words[0]!.bbox.y1) / 2;
  const taken = new Set<InputLine>();
  for (const mark of lines) {
    if (mark.words.length !== 1 || !BULLET_READ_AS.test(mark.words[0]!.text)) continue;
    const right = mark.words[0]!.bbox.x1;
    const text = lines.find(
      (l) =>
        l !== mark &&
        !taken.has(l) &&
        Math.abs(centre(l) - centre(mark)) < 0.5 * l.size &&
        l.words[0]!.bbox.x0 > right &&
        l.words[0]!.bbox.x0 - right < 2.5 * l.size,
    );
    if (!text) continue;
    text.words.unshift({ ...mark.words[0]!, text: '•' });
    taken.add(mark);
  }
  return lines.filter((l) => !taken.has(l));
}

/** Splitting stops short of a list mark: its gap to the text is the list's indent, not a column gap. */
const isMark = (word: InputLine['words'][number]) => word.text === '•';

/**
 * The page's lines, cut at wide gaps, with bold settled: a line without a font's word
 * on it is bold when its strokes are a quarter thicker, for its size, than most of the page's.
 */
export function settleLines(input: readonly InputLine[]): Line[] {
  const pieces = withLoneBullets(
    input
      .map((line) => withBullet({ ...line, words: [...line.words].sort((a, b) => a.bbox.x0 - b.bbox.x0) }))
      .flatMap(splitAtGaps)
      .filter((l) => l.words.length > 0),
  );
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
