import type { Box, Table } from '@docproc/catalog';
import { centreX, centreY, contains, height } from './geometry';
import type { Line } from './lines';

/** A table's cells before their text is known. */
export interface Grid {
  rows: number;
  columns: number;
  ruled: boolean;
  bbox: Box;
  cells: Omit<Table['cells'][number], 'text'>[];
  /** y of the horizontal rules drawn across it (a rule under the first row marks a header). */
  rowRules: number[];
}

const NUMERIC = /^[\s\p{Sc}%+\-−–.,:/()\d]*\d[\s\p{Sc}%+\-−–.,:/()\d]*$/u;

/** Words in reading order: grouped into lines by their centres, then left to right. */
function wordsText(words: { text: string; bbox: Box }[]): string {
  const sorted = [...words].sort((a, b) => centreY(a.bbox) - centreY(b.bbox));
  const rows: (typeof words)[] = [];
  for (const w of sorted) {
    const row = rows[rows.length - 1];
    if (row && Math.abs(centreY(row[0]!.bbox) - centreY(w.bbox)) < 0.5 * height(row[0]!.bbox)) row.push(w);
    else rows.push([w]);
  }
  return rows
    .map((row) =>
      row
        .sort((a, b) => a.bbox.x0 - b.bbox.x0)
        .map((w) => w.text)
        .join(' '),
    )
    .join(' ');
}

/** How many rows at the top head the columns: bold rows, rows above a rule, spanning group headers, or words over numbers. */
function headerRows(table: Omit<Table, 'headerRows'>, boldCells: Set<number>, grid: Grid): number {
  const rowCells = (r: number) => table.cells.filter((c) => c.row === r && c.text !== '');
  const isBold = (r: number) => rowCells(r).length > 0 && rowCells(r).every((c) => boldCells.has(table.cells.indexOf(c)));
  if (table.rows < 2) return 0;
  let bold = 0;
  while (bold < table.rows - 1 && bold < 3 && isBold(bold)) bold++;
  // a first row of bold cells where the body is not bold
  if (bold > 0 && !isBold(table.rows - 1)) return bold;
  const grouped = table.cells.some((c) => c.row === 0 && c.columnSpan > 1) && table.rows > 2;
  if (grouped) return 2;
  const firstBottom = table.cells.find((c) => c.row === 0)!.bbox.y1;
  if (!grid.ruled && grid.rowRules.some((y) => Math.abs(y - firstBottom) < 0.6 * (firstBottom - grid.bbox.y0 || 1))) return 1;
  const wordsOnTop = rowCells(0).every((c) => !NUMERIC.test(c.text));
  const numbersBelow = table.cells.some((c) => c.row > 0 && c.text !== '' && NUMERIC.test(c.text));
  return wordsOnTop && numbersBelow ? 1 : 0;
}

/** The grid's cells with the words of `lines` that fall in them; also the lines taken. */
export function fillCells(grid: Grid, lines: readonly Line[]): { table: Table; taken: Set<Line> } {
  const taken = new Set<Line>();
  const texts = grid.cells.map(() => [] as { text: string; bbox: Box }[]);
  const bolds = grid.cells.map(() => [] as boolean[]);
  for (const line of lines) {
    if (!contains(grid.bbox, centreX(line.bbox), centreY(line.bbox), 2)) continue;
    taken.add(line);
    for (const word of line.words) {
      const at = grid.cells.findIndex((c) => contains(c.bbox, centreX(word.bbox), centreY(word.bbox), 1));
      if (at < 0) continue;
      texts[at]!.push(word);
      bolds[at]!.push(line.bold);
    }
  }
  const cells = grid.cells.map((c, i) => ({ ...c, text: wordsText(texts[i]!) }));
  const boldCells = new Set(bolds.flatMap((b, i) => (b.length > 0 && b.every(Boolean) ? [i] : [])));
  const table = { rows: grid.rows, columns: grid.columns, ruled: grid.ruled, cells };
  return { table: { ...table, headerRows: headerRows(table, boldCells, grid) }, taken };
}
