import type { Box } from './pdf-protocol';
import { otsuThreshold, type GreyImage } from './skew';

/** Breaks this short in a rule (scan noise, a crossing) do not end it. */
const MAX_GAP = 2;

/**
 * Ruling lines in a scanned page: straight runs of ink at least a quarter inch long and
 * no thicker than a tenth of one, across or down the page. Found in two sequential passes
 * over the rows (vertical runs are counted per column as the rows go by); runs in
 * neighbouring rows or columns that line up are one rule.
 */
export function findRules(image: GreyImage, dpi: number): Box[] {
  const { data, width, height } = image;
  const threshold = otsuThreshold(image);
  const minLength = Math.round(dpi / 4);
  const maxThickness = Math.max(3, Math.round(dpi / 10));
  const horizontal: Box[] = [];
  const vertical: Box[] = [];
  const open: Box[] = [];
  // vertical runs in progress: start row and gap length per column
  const runStart = new Int32Array(width).fill(-1);
  const runGap = new Int32Array(width);
  const lastDark = new Int32Array(width);
  const closeVertical = (x: number) => {
    if (runStart[x]! >= 0 && lastDark[x]! - runStart[x]! + 1 >= minLength)
      vertical.push({ x0: x, y0: runStart[x]!, x1: x + 1, y1: lastDark[x]! + 1 });
    runStart[x] = -1;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let start = -1;
    let last = -1;
    const rowRuns: [number, number][] = [];
    for (let x = 0; x < width; x++) {
      const dark = data[row + x]! < threshold;
      if (dark) {
        if (start < 0 || x - last > MAX_GAP + 1) {
          if (start >= 0 && last - start + 1 >= minLength) rowRuns.push([start, last + 1]);
          start = x;
        }
        last = x;
        if (runStart[x]! < 0) runStart[x] = y;
        lastDark[x] = y;
        runGap[x] = 0;
      } else if (runStart[x]! >= 0 && ++runGap[x]! > MAX_GAP) closeVertical(x);
    }
    if (start >= 0 && last - start + 1 >= minLength) rowRuns.push([start, last + 1]);
    for (const [x0, x1] of rowRuns) {
      const continued = open.find((r) => r.y1 === y && Math.min(r.x1, x1) - Math.max(r.x0, x0) > 0.8 * (x1 - x0));
      if (continued) {
        continued.y1 = y + 1;
        continued.x0 = Math.min(continued.x0, x0);
        continued.x1 = Math.max(continued.x1, x1);
      } else open.push({ x0, y0: y, x1, y1: y + 1 });
    }
    for (let i = open.length - 1; i >= 0; i--) if (open[i]!.y1 < y) horizontal.push(...open.splice(i, 1));
  }
  horizontal.push(...open);
  for (let x = 0; x < width; x++) closeVertical(x);
  // neighbouring columns' runs that line up: one rule
  vertical.sort((a, b) => a.x0 - b.x0 || a.y0 - b.y0);
  const verticals: Box[] = [];
  for (const run of vertical) {
    const same = verticals.find((v) => v.x1 >= run.x0 && Math.min(v.y1, run.y1) - Math.max(v.y0, run.y0) > 0.8 * (run.y1 - run.y0));
    if (same)
      Object.assign(same, {
        x0: Math.min(same.x0, run.x0),
        x1: Math.max(same.x1, run.x1),
        y0: Math.min(same.y0, run.y0),
        y1: Math.max(same.y1, run.y1),
      });
    else verticals.push({ ...run });
  }
  return [...horizontal.filter((r) => r.y1 - r.y0 <= maxThickness), ...verticals.filter((r) => r.x1 - r.x0 <= maxThickness)];
}

/** The mean width of the ink's horizontal strokes inside `box`, in pixels (bold type has thicker strokes). */
export function strokeWidth(image: GreyImage, box: Box, threshold: number): number {
  const { data, width, height } = image;
  let dark = 0;
  let runs = 0;
  for (let y = Math.max(0, Math.floor(box.y0)); y < Math.min(height, Math.ceil(box.y1)); y++) {
    let inRun = false;
    for (let x = Math.max(0, Math.floor(box.x0)); x < Math.min(width, Math.ceil(box.x1)); x++) {
      const isDark = data[y * width + x]! < threshold;
      if (isDark) {
        dark++;
        if (!inRun) runs++;
      }
      inRun = isDark;
    }
  }
  return runs === 0 ? 0 : dark / runs;
}
