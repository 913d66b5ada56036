import type { Box } from '@docproc/catalog';
import { centreY, height, median } from './geometry';
import type { InputLine, InputWord } from './input';
import { LIST_MARK } from './lines';

/** A run of text a PDF draws at once (a pdf.js text item), placed on the page in pixels. */
export interface TextRun {
  text: string;
  bbox: Box;
  bold: boolean;
}

/** The run's words, each given its share of the run's width by its number of characters. */
function wordsOf(run: TextRun): InputWord[] {
  const words: InputWord[] = [];
  const perChar = (run.bbox.x1 - run.bbox.x0) / Math.max(1, run.text.length);
  for (const match of run.text.matchAll(/\S+/g)) {
    const x0 = run.bbox.x0 + match.index * perChar;
    words.push({ text: match[0], bbox: { x0, y0: run.bbox.y0, x1: x0 + match[0].length * perChar, y1: run.bbox.y1 } });
  }
  return words;
}

/**
 * Text runs put into lines: runs on the same baseline that follow each other closely.
 * A wide gap (more than a letter height: table columns, page columns) starts a new line.
 */
export function linesFromRuns(runs: readonly TextRun[]): InputLine[] {
  const sorted = runs.filter((r) => r.text.trim() !== '').sort((a, b) => centreY(a.bbox) - centreY(b.bbox) || a.bbox.x0 - b.bbox.x0);
  const rows: TextRun[][] = [];
  for (const run of sorted) {
    const row = rows.find((r) => Math.abs(centreY(r[0]!.bbox) - centreY(run.bbox)) < 0.35 * height(r[0]!.bbox));
    if (row) row.push(run);
    else rows.push([run]);
  }
  const lines: InputLine[] = [];
  for (const row of rows) {
    row.sort((a, b) => a.bbox.x0 - b.bbox.x0);
    let current: TextRun[] = [];
    const flush = () => {
      if (current.length === 0) return;
      const words = current.flatMap(wordsOf);
      const bold = current.filter((r) => r.bold).reduce((n, r) => n + r.text.length, 0) * 2 > current.reduce((n, r) => n + r.text.length, 0);
      lines.push({ words, size: median(current.map((r) => height(r.bbox))), bold });
      current = [];
    };
    for (const run of row) {
      const last = current[current.length - 1];
      // a list's mark stands apart from its text by the indent: not a column gap
      const mark = current.length === 1 && LIST_MARK.test(last!.text.trim());
      if (last && !mark && run.bbox.x0 - last.bbox.x1 > Math.max(height(last.bbox), height(run.bbox))) flush();
      current.push(run);
    }
    flush();
  }
  return lines;
}
