import { height, union, width } from './geometry';
import type { Rule } from './input';
import type { Grid } from './cells';

/** Ruling lines that touch within this many pixels meet. */
const SLACK = 6;

const isHorizontal = (r: Rule) => width(r) >= height(r);

/** Collinear pieces of one line joined (a rule drawn in pieces, or broken by the scan). */
function joined(rules: Rule[], horizontal: boolean): Rule[] {
  const along = (r: Rule) => (horizontal ? [r.x0, r.x1] : [r.y0, r.y1]) as [number, number];
  const across = (r: Rule) => (horizontal ? (r.y0 + r.y1) / 2 : (r.x0 + r.x1) / 2);
  const sorted = [...rules].sort((a, b) => across(a) - across(b) || along(a)[0] - along(b)[0]);
  const out: Rule[] = [];
  for (const rule of sorted) {
    const last = out.find((o) => Math.abs(across(o) - across(rule)) <= SLACK / 2 && along(rule)[0] <= along(o)[1] + SLACK);
    if (last) Object.assign(last, union([last, rule]));
    else out.push({ ...rule });
  }
  return out;
}

const meets = (h: Rule, v: Rule) => v.x0 - SLACK <= h.x1 && v.x1 + SLACK >= h.x0 && h.y0 - SLACK <= v.y1 && h.y1 + SLACK >= v.y0;

/** Positions closer than SLACK taken as one (their mean). */
function clustered(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const groups: number[][] = [];
  for (const v of sorted) {
    const g = groups[groups.length - 1];
    if (g && v - g[g.length - 1]! <= SLACK) g.push(v);
    else groups.push([v]);
  }
  return groups.map((g) => g.reduce((s, v) => s + v, 0) / g.length);
}

/** Share of the span [from, to] that rules at `at` (on the other axis) cover. */
function covered(rules: Rule[], horizontal: boolean, at: number, from: number, to: number): number {
  let sum = 0;
  for (const r of rules) {
    const pos = horizontal ? (r.y0 + r.y1) / 2 : (r.x0 + r.x1) / 2;
    if (Math.abs(pos - at) > SLACK) continue;
    const [a, b] = horizontal ? [r.x0, r.x1] : [r.y0, r.y1];
    sum += Math.max(0, Math.min(b, to) - Math.max(a, from));
  }
  return sum / Math.max(1, to - from);
}

/**
 * Tables drawn with ruling lines: each set of horizontal and vertical rules that meet
 * makes a grid; a grid line missing between two cells joins them (a spanning cell).
 */
export function ruledGrids(rules: readonly Rule[]): Grid[] {
  const hs = joined(rules.filter(isHorizontal), true);
  const vs = joined(
    rules.filter((r) => !isHorizontal(r)),
    false,
  );
  // connected sets of meeting rules
  const all = [...hs.map((r) => ({ r, h: true })), ...vs.map((r) => ({ r, h: false }))];
  const parent = all.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) {
      const [a, b] = [all[i]!, all[j]!];
      if (a.h !== b.h && meets(a.h ? a.r : b.r, a.h ? b.r : a.r)) parent[find(i)] = find(j);
    }
  const groups = new Map<number, typeof all>();
  all.forEach((item, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), item]));

  const grids: Grid[] = [];
  for (const group of groups.values()) {
    const gh = group.filter((g) => g.h).map((g) => g.r);
    const gv = group.filter((g) => !g.h).map((g) => g.r);
    if (gh.length < 2 || gv.length < 2) continue;
    const ys = clustered(gh.map((r) => (r.y0 + r.y1) / 2));
    const xs = clustered(gv.map((r) => (r.x0 + r.x1) / 2));
    const rows = ys.length - 1;
    const columns = xs.length - 1;
    if (rows < 1 || columns < 1 || rows * columns < 2) continue;
    // cells joined where the rule between them is (mostly) missing
    const id = (r: number, c: number) => r * columns + c;
    const cellParent = Array.from({ length: rows * columns }, (_, i) => i);
    const root = (i: number): number => (cellParent[i] === i ? i : (cellParent[i] = root(cellParent[i]!)));
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < columns; c++) {
        if (c + 1 < columns && covered(gv, false, xs[c + 1]!, ys[r]!, ys[r + 1]!) < 0.5) cellParent[root(id(r, c + 1))] = root(id(r, c));
        if (r + 1 < rows && covered(gh, true, ys[r + 1]!, xs[c]!, xs[c + 1]!) < 0.5) cellParent[root(id(r + 1, c))] = root(id(r, c));
      }
    const spans = new Map<number, { r0: number; c0: number; r1: number; c1: number }>();
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < columns; c++) {
        const s = spans.get(root(id(r, c)));
        if (!s) spans.set(root(id(r, c)), { r0: r, c0: c, r1: r, c1: c });
        else Object.assign(s, { r0: Math.min(s.r0, r), c0: Math.min(s.c0, c), r1: Math.max(s.r1, r), c1: Math.max(s.c1, c) });
      }
    const cells = [...spans.values()].map((s) => ({
      row: s.r0,
      column: s.c0,
      rowSpan: s.r1 - s.r0 + 1,
      columnSpan: s.c1 - s.c0 + 1,
      bbox: { x0: xs[s.c0]!, y0: ys[s.r0]!, x1: xs[s.c1 + 1]!, y1: ys[s.r1 + 1]! },
    }));
    // a single box around text (a frame) is no table
    if (cells.length < 2) continue;
    grids.push({ rows, columns, ruled: true, bbox: { x0: xs[0]!, y0: ys[0]!, x1: xs[columns]!, y1: ys[rows]! }, cells, rowRules: ys });
  }
  return grids;
}
