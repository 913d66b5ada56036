import { centreY, height, median, overlapX, union, width } from './geometry';
import type { Grid } from './cells';
import type { Rule } from './input';
import type { Line } from './lines';

/** Cells hold a few words; a "table" of longer pieces is prose in columns. */
const MAX_WORDS_PER_CELL = 6;
const MAX_CHARACTERS_PER_CELL = 24;

/** Lines side by side on the page: one visual row. */
function visualRows(lines: readonly Line[]): Line[][] {
  const rows: Line[][] = [];
  for (const line of [...lines].sort((a, b) => centreY(a.bbox) - centreY(b.bbox))) {
    const row = rows[rows.length - 1];
    const ref = row?.[0];
    if (ref && Math.abs(centreY(ref.bbox) - centreY(line.bbox)) < 0.5 * Math.min(height(ref.bbox), height(line.bbox))) row.push(line);
    else rows.push([line]);
  }
  for (const row of rows) row.sort((a, b) => a.bbox.x0 - b.bbox.x0);
  return rows;
}

const gapBetween = (upper: Line[], lower: Line[]) => Math.min(...lower.map((l) => l.bbox.y0)) - Math.max(...upper.map((l) => l.bbox.y1));
const rowSize = (row: Line[]) => median(row.map((l) => l.size));

/** Runs of rows that each stand in two or more pieces, close below one another. */
function candidateRuns(rows: Line[][]): Line[][][] {
  const runs: Line[][][] = [];
  let run: Line[][] = [];
  const close = () => {
    // a trailing single-piece row belongs to what follows
    while (run.length > 0 && run[run.length - 1]!.length < 2) run.pop();
    if (run.length >= 3 && run.filter((r) => r.length >= 2).length >= 2) runs.push(run);
    run = [];
  };
  rows.forEach((row, i) => {
    const previous = run[run.length - 1];
    if (previous && gapBetween(previous, row) > 2 * rowSize(row)) close();
    const multi = row.length >= 2;
    // one short piece between two multi-piece rows: a row with empty cells
    const shortSingle = row.length === 1 && row[0]!.words.length <= 4 && run.length > 0 && (rows[i + 1]?.length ?? 0) >= 2;
    if (multi || shortSingle) run.push(row);
    else close();
  });
  close();
  return runs;
}

/** The columns of a run: the x-spans of the pieces of its fullest rows, if they line up. */
function columnsOf(run: Line[][]): { x0: number; x1: number }[] | null {
  const most = Math.max(...run.map((r) => r.length));
  const full = run.filter((r) => r.length === most);
  // a table's columns show in more than one full row; prose broken around a picture does not line up so
  if (full.length < 2) return null;
  const columns = Array.from({ length: most }, (_, k) => union(full.map((r) => r[k]!.bbox)));
  for (let k = 0; k + 1 < columns.length; k++) if (columns[k]!.x1 >= columns[k + 1]!.x0) return null;
  return columns.map((c) => ({ x0: c.x0, x1: c.x1 }));
}

/** The columns a piece stands in: those it overlaps, or else the nearest. */
function columnSpan(piece: Line, columns: { x0: number; x1: number }[]): [number, number] {
  const hit = columns.flatMap((c, k) => (overlapX(piece.bbox, { ...c, y0: 0, y1: 0 }) > 0 ? [k] : []));
  if (hit.length > 0) return [hit[0]!, hit[hit.length - 1]!];
  const centre = (piece.bbox.x0 + piece.bbox.x1) / 2;
  const nearest = columns.reduce(
    (best, c, k) => (Math.abs((c.x0 + c.x1) / 2 - centre) < Math.abs((columns[best]!.x0 + columns[best]!.x1) / 2 - centre) ? k : best),
    0,
  );
  return [nearest, nearest];
}

/**
 * Tables laid out by whitespace alone: three or more rows whose pieces line up in the
 * same columns, each piece a few words. Spanning pieces span columns; a row whose first
 * column is empty and that sits closer to the row above than rows do is that row's
 * text wrapping.
 */
export function unruledGrids(lines: readonly Line[], rules: readonly Rule[]): Grid[] {
  const grids: Grid[] = [];
  for (const run of candidateRuns(visualRows(lines))) {
    const pieces = run.flat();
    if (pieces.reduce((n, p) => n + p.words.length, 0) / pieces.length > MAX_WORDS_PER_CELL) continue;
    if (pieces.reduce((n, p) => n + p.text.length, 0) / pieces.length > MAX_CHARACTERS_PER_CELL) continue;
    const columns = columnsOf(run);
    if (!columns) continue;
    // rows of pieces by column; wrapped lines joined to their row
    const usualGap = median(run.slice(1).map((row, i) => gapBetween(run[i]!, row)));
    const rows: { pieces: { line: Line; from: number; to: number }[] }[] = [];
    run.forEach((row, i) => {
      const placed = row.map((line) => {
        const [from, to] = columnSpan(line, columns);
        return { line, from, to };
      });
      const wraps = i > 0 && placed.every((p) => p.from > 0) && gapBetween(run[i - 1]!, row) < 0.6 * usualGap;
      if (wraps && rows.length > 0) rows[rows.length - 1]!.pieces.push(...placed);
      else rows.push({ pieces: placed });
    });
    const top = (r: number) => Math.min(...rows[r]!.pieces.map((p) => p.line.bbox.y0));
    const bottom = (r: number) => Math.max(...rows[r]!.pieces.map((p) => p.line.bbox.y1));
    const cells: Grid['cells'] = [];
    rows.forEach((row, r) => {
      const taken = new Set<number>();
      for (const p of [...row.pieces].sort((a, b) => a.from - b.from)) {
        if (taken.has(p.from)) {
          // a second piece in the same column: part of that cell
          const cell = cells.find((c) => c.row === r && c.column <= p.from && c.column + c.columnSpan > p.from)!;
          cell.bbox = union([cell.bbox, p.line.bbox]);
          continue;
        }
        const span = Math.max(1, p.to - p.from + 1);
        for (let k = p.from; k < p.from + span; k++) taken.add(k);
        const same = row.pieces.filter((q) => q.from === p.from).map((q) => q.line.bbox);
        cells.push({ row: r, column: p.from, rowSpan: 1, columnSpan: span, bbox: union(same) });
      }
      columns.forEach((c, k) => {
        if (!taken.has(k)) cells.push({ row: r, column: k, rowSpan: 1, columnSpan: 1, bbox: { x0: c.x0, y0: top(r), x1: c.x1, y1: bottom(r) } });
      });
    });
    const bbox = union(pieces.map((p) => p.bbox));
    const size = median(pieces.map((p) => p.size));
    const rowRules = rules
      .filter((r) => width(r) > height(r) && overlapX(r, bbox) > 0.5 * width(bbox) && r.y0 > bbox.y0 - 2 * size && r.y1 < bbox.y1 + 2 * size)
      .map((r) => (r.y0 + r.y1) / 2);
    grids.push({ rows: rows.length, columns: columns.length, ruled: false, bbox, cells, rowRules });
  }
  return grids;
}
