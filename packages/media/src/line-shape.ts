import { inkPoints, profileScore, type GreyImage } from './skew';

/** What a page's text lines show of its orientation, read from its ink alone. */
export interface LineShape {
  /**
   * How much sharper the ink's row profile is than its column profile, each at its best
   * angle within ±15°: well above 1 the lines run across the page, below 1 down it.
   */
  across: number;
  /**
   * Ink above the lines' x-height band over ink below it, the lines taken across: in
   * Latin, Cyrillic and Greek text ascenders and capitals outnumber descenders, so well
   * above 1 is upright and below 1 upside down.
   */
  ascent: number;
  /** The text lines found (runs of rows a line of letters high), and their share of the ink. */
  lines: number;
  inLines: number;
}

/** The sharpest profile of the points within ±15°, and its angle (to the degree: enough to tell lines across from lines down). */
function sharpest(xs: Float64Array, ys: Float64Array, rows: Float64Array): { degrees: number; score: number } {
  let best = { degrees: 0, score: -1 };
  for (let degrees = -15; degrees <= 15; degrees += 1) {
    const score = profileScore(xs, ys, degrees, rows);
    if (score > best.score) best = { degrees, score };
  }
  return best;
}

/** A row holds part of a line when it has at least this share of the page's fullest row's ink. */
const LINE_ROW_SHARE = 0.05;
/** A line's x-height band: its rows with at least this share of its fullest row's ink. */
const CORE_ROW_SHARE = 0.4;
/** A run of rows this high (on a 1,000 px copy) is a line of letters: lower is a rule or a chart's grid line, higher a picture. */
const LETTER_LINE_ROWS = { min: 5, max: 60 };

/**
 * The shape of the page's text lines (expects a copy about 1,000 px on its longer side, as
 * estimateSkew does). Null for a page without ink to go by.
 */
export function lineShape(image: GreyImage): LineShape | null {
  const ink = inkPoints(image);
  if (!ink) return null;
  const { xs, ys, rows } = ink;
  const across = sharpest(xs, ys, rows);
  const down = sharpest(ys, xs, rows);
  // the rows of the lines, straightened
  profileScore(xs, ys, across.degrees, rows);
  const fullest = rows.reduce((a, b) => Math.max(a, b), 0);
  let [above, below, lines, inLines] = [0, 0, 0, 0];
  for (let start = 0; start < rows.length;) {
    if (rows[start]! < fullest * LINE_ROW_SHARE) {
      start++;
      continue;
    }
    let end = start;
    while (end + 1 < rows.length && rows[end + 1]! >= fullest * LINE_ROW_SHARE) end++;
    const line = rows.subarray(start, end + 1);
    start = end + 1;
    if (line.length < LETTER_LINE_ROWS.min || line.length > LETTER_LINE_ROWS.max) continue;
    lines++;
    inLines += line.reduce((a, b) => a + b, 0);
    const peak = line.reduce((a, b) => Math.max(a, b), 0);
    const top = line.findIndex((count) => count >= peak * CORE_ROW_SHARE);
    const bottom = line.length - 1 - [...line].reverse().findIndex((count) => count >= peak * CORE_ROW_SHARE);
    for (let i = 0; i < top; i++) above += line[i]!;
    for (let i = bottom + 1; i < line.length; i++) below += line[i]!;
  }
  return { across: across.score / down.score, ascent: (above + 1) / (below + 1), lines, inLines: inLines / xs.length };
}

/** What it takes to call a page upright by its lines alone (measured on generated and corpus pages: docs/benchmarks.md). */
const UPRIGHT = { across: 1.3, lines: 3, inLines: 0.5, ascent: 1.5 };

/**
 * Whether the page's lines show it upright beyond doubt: text lines across the page, most
 * of its ink in them, clearly more ink above their x-height than below. Only for scripts
 * written with ascenders (writtenWithAscenders). False says nothing: ask the OSD.
 */
export function uprightByLines(shape: LineShape | null): boolean {
  return (
    shape !== null &&
    shape.across >= UPRIGHT.across &&
    shape.lines >= UPRIGHT.lines &&
    shape.inLines >= UPRIGHT.inLines &&
    shape.ascent >= UPRIGHT.ascent
  );
}
