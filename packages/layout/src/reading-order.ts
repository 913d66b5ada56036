import type { Box } from '@docproc/catalog';
import { median, overlapX } from './geometry';

type Boxed = { bbox: Box };

/** Groups of blocks between which a gap of at least `minGap` runs right across (axis x: side by side; y: one above the other). */
function splitByGaps<T extends Boxed>(blocks: readonly T[], axis: 'x' | 'y', minGap: number): T[][] {
  const [from, to] = axis === 'x' ? (['x0', 'x1'] as const) : (['y0', 'y1'] as const);
  const sorted = [...blocks].sort((a, b) => a.bbox[from] - b.bbox[from]);
  const groups: T[][] = [];
  let reach = -Infinity;
  for (const b of sorted) {
    if (groups.length === 0 || b.bbox[from] - reach >= minGap) groups.push([b]);
    else groups[groups.length - 1]!.push(b);
    reach = Math.max(reach, b.bbox[to]);
  }
  return groups;
}

/** The x-spans of the gutters between a band's columns. */
function gutters<T extends Boxed>(band: readonly T[], minGap: number): [number, number][] {
  const columns = splitByGaps(band, 'x', minGap);
  return columns.slice(1).map((c, i) => [Math.max(...columns[i]!.map((b) => b.bbox.x1)), Math.min(...c.map((b) => b.bbox.x0))]);
}

/**
 * Whether groups split by a vertical gap are columns read one after the other: no group
 * holds a block wider than its column's text that stands wholly above or below the other
 * groups (a title or a closing line that happens not to reach across the gutter). A
 * block as wide as its column may run on past the others (a longer column).
 */
function sideBySide<T extends Boxed>(groups: T[][]): boolean {
  return groups.every((group, g) => {
    const others = groups.filter((_, k) => k !== g).flat();
    const top = Math.min(...others.map((b) => b.bbox.y0));
    const bottom = Math.max(...others.map((b) => b.bbox.y1));
    const usual = median(group.map((b) => b.bbox.x1 - b.bbox.x0));
    return group.every((b) => (b.bbox.y1 > top && b.bbox.y0 < bottom) || b.bbox.x1 - b.bbox.x0 <= 1.1 * usual);
  });
}

/**
 * Blocks in reading order, by recursive XY-cut: side-by-side groups (columns) left to
 * right, else groups one above the other top to bottom — where two bands in a row have the
 * same gutters they are one band of columns (paragraph breaks that happen to line up
 * across columns must not cut them) — and Breuel's order (below) where neither cut exists.
 */
export function readingOrder<T extends Boxed>(blocks: readonly T[], minGap: number): T[] {
  if (blocks.length <= 1) return [...blocks];
  const columns = splitByGaps(blocks, 'x', minGap);
  if (columns.length > 1 && sideBySide(columns)) return columns.flatMap((c) => readingOrder(c, minGap));
  const bands = splitByGaps(blocks, 'y', 1);
  if (bands.length === 1) return breuelOrder(blocks);
  const merged: T[][] = [];
  for (const band of bands) {
    const last = merged[merged.length - 1];
    const [a, b] = [last ? gutters(last, minGap) : [], gutters(band, minGap)];
    const same = a.length > 0 && a.length === b.length && a.every(([x0, x1], i) => Math.min(x1, b[i]![1]) - Math.max(x0, b[i]![0]) > 0);
    if (same) last!.push(...band);
    else merged.push([...band]);
  }
  if (merged.length === 1) return breuelOrder(merged[0]!);
  return merged.flatMap((band) => readingOrder(band, minGap));
}

/**
 * Blocks in reading order (T. Breuel, "High performance document layout analysis",
 * 2003): a comes before b when they share columns and a is above, or when a is wholly
 * left of b and no block between them in height spans both. The order is these
 * relations' topological sort, taking the highest block free at each step — so
 * multi-column pages read column by column and a full-width heading closes the
 * columns above it.
 */
function breuelOrder<T extends Boxed>(blocks: readonly T[]): T[] {
  const n = blocks.length;
  const before: boolean[][] = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  const slack = 2;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const [a, b] = [blocks[i]!.bbox, blocks[j]!.bbox];
      if (overlapX(a, b) > slack) {
        before[i]![j] = (a.y0 + a.y1) / 2 < (b.y0 + b.y1) / 2;
        continue;
      }
      if (a.x1 > b.x0 + slack) continue;
      const [top, bottom] = [Math.min(a.y0, b.y0), Math.max(a.y1, b.y1)];
      const spanned = blocks.some((c, k) => {
        if (k === i || k === j) return false;
        const cb = c.bbox;
        const between = cb.y0 >= Math.min(a.y1, b.y1) - slack && cb.y1 <= Math.max(a.y0, b.y0) + slack && cb.y0 >= top && cb.y1 <= bottom;
        return between && overlapX(cb, a) > slack && overlapX(cb, b) > slack;
      });
      before[i]![j] = !spanned;
    }
  const indegree = blocks.map((_, j) => blocks.reduce((d, _b, i) => d + (before[i]![j] ? 1 : 0), 0));
  const done = new Array<boolean>(n).fill(false);
  const order: T[] = [];
  const rank = (k: number) => blocks[k]!.bbox.y0 * 4 + blocks[k]!.bbox.x0;
  while (order.length < n) {
    let pick = -1;
    for (let k = 0; k < n; k++) if (!done[k] && indegree[k] === 0 && (pick < 0 || rank(k) < rank(pick))) pick = k;
    // a cycle (overlapping blocks): take the highest left
    if (pick < 0) for (let k = 0; k < n; k++) if (!done[k] && (pick < 0 || rank(k) < rank(pick))) pick = k;
    done[pick] = true;
    order.push(blocks[pick]!);
    for (let j = 0; j < n; j++) if (before[pick]![j]) indegree[j]!--;
  }
  return order;
}
