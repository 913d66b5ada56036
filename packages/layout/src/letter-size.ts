import { median } from './geometry';
import type { InputWord } from './input';

/** Letters that rise above the x-height (capitals, digits, ascenders, accents) and that hang below the baseline. */
const RISES = /[\p{Lu}\p{N}bdfhijklt'"!?()[\]{}|/\\àáâãäåèéêëìíîïòóôõöùúûüýÿñçß&%$€£#@]/u;
const HANGS = /[gjpqyç,;()[\]{}|/\\]/u;

/**
 * A line's letter size (ascender to descender, as a font's size is measured) from its
 * words' boxes: a word's box is only as tall as its letters reach, so each box is scaled
 * by the share of the full height its letters take (Helvetica-like proportions, the dots of i
 * and j counted as rising: x-height
 * 0.52, ascenders 0.20 above it, descenders 0.21 below), and the median taken. A box from
 * OCR knows nothing of the font; this is the height the line's type would have.
 */
export function letterSize(words: readonly InputWord[]): number | null {
  const sizes = words
    .filter((w) => /[\p{L}\p{N}]/u.test(w.text))
    .map((w) => {
      const share = 0.52 + (RISES.test(w.text) ? 0.2 : 0) + (HANGS.test(w.text) ? 0.21 : 0);
      return ((w.bbox.y1 - w.bbox.y0) * 0.93) / share;
    });
  return sizes.length === 0 ? null : median(sizes);
}
