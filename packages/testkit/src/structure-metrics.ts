/**
 * How close a document's layout comes to the truth of it (testkit's structuredDocument):
 * reading order, headings, table cells and table structure (TEDS).
 */
import type { Layout, Table } from '@docproc/catalog';
import type { TruthBlock, TruthTable } from './structured-document';

const MARGINS = new Set(['header', 'footer', 'page_number']);

const words = (text: string) =>
  text
    .toLowerCase()
    .normalize('NFC')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/** Dice similarity of two texts' word multisets, 0..1. */
function similarity(a: string, b: string): number {
  const [wa, wb] = [words(a), words(b)];
  if (wa.length + wb.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const w of wa) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of wb) {
    const n = counts.get(w) ?? 0;
    if (n > 0) {
      common++;
      counts.set(w, n - 1);
    }
  }
  return (2 * common) / (wa.length + wb.length);
}

function editDistance<T>(a: readonly T[], b: readonly T[], cost: (x: T, y: T) => number = (x, y) => (x === y ? 0 : 1)): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost(a[i - 1]!, b[j - 1]!));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Reading order: each read block stands for the true block it is most like (a split
 * paragraph's parts for the same one, once); 1 - the edit distance between that sequence
 * and the true order, over the longer of the two.
 */
export function readingOrderScore(truth: readonly string[], read: readonly string[]): number {
  const ids: number[] = [];
  for (const text of read) {
    let best = -1;
    let bestScore = 0.5;
    truth.forEach((t, i) => {
      const s = similarity(t, text);
      if (s > bestScore) [best, bestScore] = [i, s];
    });
    if (ids[ids.length - 1] !== best || best < 0) ids.push(best);
  }
  const expected = truth.map((_, i) => i);
  return 1 - editDistance(ids, expected) / Math.max(ids.length, expected.length, 1);
}

export const truthBody = (blocks: readonly TruthBlock[]) => blocks.filter((b) => !MARGINS.has(b.type)).map((b) => b.text);
export const layoutBody = (layout: Layout) =>
  layout.pages.flatMap((p) => p.blocks.filter((b) => !MARGINS.has(b.type) && b.type !== 'figure').map((b) => b.text));

interface Counts {
  found: number;
  expected: number;
  matched: number;
  levelRight: number;
}

/** Headings found against the true ones (a match: texts at least 0.8 alike, one to one), and how many have the right level. */
export function headingCounts(truth: readonly TruthBlock[], layout: Layout): Counts {
  const expected = truth.filter((b) => b.type === 'heading');
  const found = layout.pages.flatMap((p) => p.blocks.filter((b) => b.type === 'heading'));
  const free = new Set(expected);
  let matched = 0;
  let levelRight = 0;
  for (const h of found) {
    const match = [...free].find((t) => similarity(t.text, h.text) >= 0.8);
    if (!match) continue;
    free.delete(match);
    matched++;
    if (match.level === h.level) levelRight++;
  }
  return { found: found.length, expected: expected.length, matched, levelRight };
}

/** Cells of the true tables (those with text) whose exact text stands in the same row and column of the table read for it. */
export function cellCounts(truth: readonly TruthTable[], layout: Layout): { right: number; total: number; teds: number[] } {
  const read = layout.pages.flatMap((p) => p.blocks.flatMap((b) => (b.table ? [b.table] : [])));
  const rowsOf = (t: Table) => {
    const rows = Array.from({ length: t.rows }, () => new Array<string>(t.columns).fill(''));
    for (const c of t.cells) rows[c.row]![c.column] = c.text;
    return rows;
  };
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  let right = 0;
  let total = 0;
  const teds: number[] = [];
  for (const table of truth) {
    const want = table.rows.flat().filter(Boolean).join(' ');
    const best = read.reduce<{ t?: Table; s: number }>(
      (acc, t) => {
        const s = similarity(want, rowsOf(t).flat().join(' '));
        return s > acc.s ? { t, s } : acc;
      },
      { s: 0.3 },
    ).t;
    const got = best ? rowsOf(best) : [];
    table.rows.forEach((row, r) =>
      row.forEach((text, c) => {
        if (text === '') return;
        total++;
        if (norm(got[r]?.[c] ?? '') === norm(text)) right++;
      }),
    );
    teds.push(best ? tedsScore(table.cells, best.cells) : 0);
  }
  return { right, total, teds };
}

interface Node {
  label: string;
  text: string;
  children: Node[];
}

const tree = (cells: readonly { row: number; column: number; rowSpan: number; columnSpan: number; text: string }[]): Node => {
  const rows = new Map<number, Node[]>();
  for (const c of [...cells].sort((a, b) => a.row - b.row || a.column - b.column)) {
    const cell = { label: `td ${c.rowSpan}x${c.columnSpan}`, text: c.text.replace(/\s+/g, ' ').trim(), children: [] };
    rows.set(c.row, [...(rows.get(c.row) ?? []), cell]);
  }
  return {
    label: 'table',
    text: '',
    children: [...rows.keys()].sort((a, b) => a - b).map((r) => ({ label: 'tr', text: '', children: rows.get(r)! })),
  };
};

/**
 * Tree-edit-distance similarity (TEDS, Zhong et al. 2020) of two tables as trees
 * (table → rows → cells with their spans): 1 - the distance over the larger tree's size;
 * renaming a cell costs its texts' normalised edit distance. Zhang-Shasha's algorithm.
 */
export function tedsScore(truth: Parameters<typeof tree>[0], read: Parameters<typeof tree>[0]): number {
  const [a, b] = [postorder(tree(truth)), postorder(tree(read))];
  const rename = (x: Node, y: Node) => {
    if (x.label !== y.label) return 1;
    if (x.label.startsWith('td')) return x.text === y.text ? 0 : editDistance([...x.text], [...y.text]) / Math.max(x.text.length, y.text.length, 1);
    return 0;
  };
  const distance = zhangShasha(a, b, rename);
  return 1 - distance / Math.max(a.nodes.length, b.nodes.length);
}

interface Ordered {
  nodes: Node[];
  /** Leftmost leaf descendant of each node, in postorder numbering. */
  left: number[];
  keyroots: number[];
}

function postorder(root: Node): Ordered {
  const nodes: Node[] = [];
  const left: number[] = [];
  const walk = (n: Node): number => {
    let leftmost = -1;
    for (const c of n.children) {
      const l = walk(c);
      if (leftmost < 0) leftmost = l;
    }
    nodes.push(n);
    left.push(leftmost < 0 ? nodes.length - 1 : leftmost);
    return left[left.length - 1]!;
  };
  walk(root);
  const keyroots = nodes.map((_, i) => i).filter((i) => !nodes.some((_, j) => j > i && left[j] === left[i]));
  return { nodes, left, keyroots };
}

function zhangShasha(a: Ordered, b: Ordered, rename: (x: Node, y: Node) => number): number {
  const td = Array.from({ length: a.nodes.length }, () => new Array<number>(b.nodes.length).fill(0));
  for (const i of a.keyroots)
    for (const j of b.keyroots) {
      const [li, lj] = [a.left[i]!, b.left[j]!];
      const rows = i - li + 2;
      const cols = j - lj + 2;
      const fd = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
      for (let x = 1; x < rows; x++) fd[x]![0] = fd[x - 1]![0]! + 1;
      for (let y = 1; y < cols; y++) fd[0]![y] = fd[0]![y - 1]! + 1;
      for (let x = 1; x < rows; x++)
        for (let y = 1; y < cols; y++) {
          const [ni, nj] = [li + x - 1, lj + y - 1];
          if (a.left[ni] === li && b.left[nj] === lj) {
            fd[x]![y] = Math.min(fd[x - 1]![y]! + 1, fd[x]![y - 1]! + 1, fd[x - 1]![y - 1]! + rename(a.nodes[ni]!, b.nodes[nj]!));
            td[ni]![nj] = fd[x]![y]!;
          } else {
            const [px, py] = [a.left[ni]! - li, b.left[nj]! - lj];
            fd[x]![y] = Math.min(fd[x - 1]![y]! + 1, fd[x]![y - 1]! + 1, fd[px]![py]! + td[ni]![nj]!);
          }
        }
    }
  return td[a.nodes.length - 1]![b.nodes.length - 1]!;
}
