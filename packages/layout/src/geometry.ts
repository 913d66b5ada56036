import type { Box } from '@docproc/catalog';

export const width = (b: Box) => b.x1 - b.x0;
export const height = (b: Box) => b.y1 - b.y0;
export const centreX = (b: Box) => (b.x0 + b.x1) / 2;
export const centreY = (b: Box) => (b.y0 + b.y1) / 2;

/** The smallest box holding all of `boxes` (a zero box for none). */
export function union(boxes: readonly Box[]): Box {
  if (boxes.length === 0) return { x0: 0, y0: 0, x1: 0, y1: 0 };
  let { x0, y0, x1, y1 } = boxes[0]!;
  for (const b of boxes) {
    x0 = Math.min(x0, b.x0);
    y0 = Math.min(y0, b.y0);
    x1 = Math.max(x1, b.x1);
    y1 = Math.max(y1, b.y1);
  }
  return { x0, y0, x1, y1 };
}

/** How far two boxes' spans on an axis overlap (negative: the gap between them). */
export const overlapX = (a: Box, b: Box) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
export const overlapY = (a: Box, b: Box) => Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);

export const contains = (outer: Box, x: number, y: number, slack = 0) =>
  x >= outer.x0 - slack && x <= outer.x1 + slack && y >= outer.y0 - slack && y <= outer.y1 + slack;

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const rounded = (b: Box): Box => ({ x0: Math.round(b.x0), y0: Math.round(b.y0), x1: Math.round(b.x1), y1: Math.round(b.y1) });
