import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from '@cantoo/pdf-lib';
import sharp from 'sharp';
import { makePdf } from './pdf';
import { seededRandom } from './random';
import { VOCABULARY, type StructuredLanguage } from './structured-text';

/**
 * Documents with a known structure — headings, paragraphs, lists, two columns, ruled and
 * unruled tables with spans, running heads and page numbers — written as text PDFs, and
 * the truth about them: their blocks in reading order and their tables as cells. The
 * layout tests and `pnpm bench:structure` read them back and compare.
 */

interface Cell {
  text: string;
  colSpan?: number;
  rowSpan?: number;
}

type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[]; numbered: boolean }
  | { kind: 'table'; rows: Cell[][]; headerRows: number; ruled: boolean; rules: boolean; caption: string }
  | { kind: 'columns'; left: string[]; right: string[] };

export interface TruthBlock {
  type: 'heading' | 'paragraph' | 'list_item' | 'table' | 'caption' | 'header' | 'footer' | 'page_number';
  level?: number;
  text: string;
  page: number;
}

export interface TruthTable {
  page: number;
  headerRows: number;
  /** A spanning cell's text in its first row and column, "" in the rest. */
  rows: string[][];
  /** Each cell with its place and spans. */
  cells: { row: number; column: number; rowSpan: number; columnSpan: number; text: string }[];
}

export interface StructuredDocument {
  language: StructuredLanguage;
  pdf: Buffer;
  pages: number;
  blocks: TruthBlock[];
  tables: TruthTable[];
}

const PAGE = { width: 612, height: 792, margin: 72 };
const BODY = 10.5;
const HEADING_SIZE = { 1: 20, 2: 15, 3: 12.5 } as const;
const LEADING = 1.3;

/** The blocks of one document, drawn from the language's words by `seed`. */
function content(language: StructuredLanguage, seed: number): Block[] {
  const v = VOCABULARY[language];
  const random = seededRandom(seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const headings = [...v.headings].sort(() => random() - 0.5);
  const sentences = (n: number) => Array.from({ length: n }, () => pick(v.sentences)).join(' ');
  const number = () => Math.round(random() * 90_000 + 1_000).toLocaleString('en-US');
  const change = () => `${random() < 0.3 ? '-' : '+'}${(random() * 20).toFixed(1)}%`;
  let tables = 0;
  const table = (ruled: boolean, spans: boolean, rowSpans = false): Block => {
    const columns = ruled ? 4 : 3 + Math.floor(random() * 2);
    const heads = v.tableHeads.slice(0, columns);
    const regions = [...v.tableRows].sort(() => random() - 0.5).slice(0, 3 + Math.floor(random() * 2));
    const rows: Cell[][] = [];
    let headerRows = 1;
    if (spans) {
      // a group header over two columns each, then the columns' own heads
      rows.push([{ text: '' }, { text: '2025', colSpan: 2 }, { text: '2026', colSpan: columns - 3 }]);
      rows.push([{ text: heads[0]! }, { text: heads[1]! }, { text: heads[2]! }, ...heads.slice(1, columns - 2).map((text) => ({ text }))]);
      headerRows = 2;
    } else rows.push(heads.map((text) => ({ text })));
    if (rowSpans) {
      // each region over two rows, one per mode: Region | Mode | Tons | Change
      rows.splice(0, rows.length, [{ text: heads[0]! }, { text: v.mode[0] }, { text: heads[1]! }, { text: heads[2]! }]);
      headerRows = 1;
      for (const region of regions.slice(0, 3)) {
        rows.push([{ text: region, rowSpan: 2 }, { text: v.mode[1] }, { text: number() }, { text: change() }]);
        rows.push([{ text: v.mode[2] }, { text: number() }, { text: change() }]);
      }
    } else
      for (const region of regions)
        rows.push([{ text: region }, ...Array.from({ length: columns - 1 }, (_, k) => ({ text: k % 2 ? change() : number() }))]);
    tables++;
    return { kind: 'table', rows, headerRows, ruled, rules: random() < 0.5, caption: `${v.caption} ${tables}: ${pick(v.headings)}` };
  };
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: pick(v.title) },
    { kind: 'paragraph', text: sentences(3) },
    { kind: 'heading', level: 2, text: headings[0]! },
    { kind: 'paragraph', text: sentences(4) },
    { kind: 'list', items: [...v.items].sort(() => random() - 0.5).slice(0, 3 + Math.floor(random() * 2)), numbered: seed % 3 === 0 },
    { kind: 'heading', level: 2, text: headings[1]! },
    seed % 2 === 0 ? table(true, false, true) : table(true, random() < 0.6),
    { kind: 'paragraph', text: sentences(2) },
    { kind: 'heading', level: 3, text: headings[2]! },
    { kind: 'columns', left: [sentences(3), sentences(2)], right: [sentences(2), sentences(3)] },
    { kind: 'heading', level: 2, text: headings[3]! },
    table(false, false),
    { kind: 'paragraph', text: sentences(3) },
    { kind: 'heading', level: 3, text: headings[4]! },
    { kind: 'paragraph', text: sentences(4) },
  ];
  return blocks;
}

/** Text broken into lines no wider than `width`. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (line !== '' && font.widthOfTextAtSize(next, size) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const cellRows = (rows: Cell[][]) => {
  // each cell's grid position, rows given as HTML gives them (spanned places left out)
  const placed: { row: number; column: number; cell: Cell }[] = [];
  const filled = new Set<string>();
  rows.forEach((row, r) => {
    let c = 0;
    for (const cell of row) {
      while (filled.has(`${r},${c}`)) c++;
      placed.push({ row: r, column: c, cell });
      for (let dr = 0; dr < (cell.rowSpan ?? 1); dr++) for (let dc = 0; dc < (cell.colSpan ?? 1); dc++) filled.add(`${r + dr},${c + dc}`);
      c += cell.colSpan ?? 1;
    }
  });
  return placed;
};

/** Writes the document; returns the truth of what it drew. */
export async function structuredDocument(language: StructuredLanguage, seed: number): Promise<StructuredDocument> {
  const doc = await PDFDocument.create();
  // odd seeds set in Helvetica, even ones in Times
  const serif = seed % 2 === 0;
  const regular = await doc.embedFont(serif ? StandardFonts.TimesRoman : StandardFonts.Helvetica);
  const bold = await doc.embedFont(serif ? StandardFonts.TimesRomanBold : StandardFonts.HelveticaBold);
  const v = VOCABULARY[language];
  const blocks: TruthBlock[] = [];
  const tables: TruthTable[] = [];
  let page!: PDFPage;
  let pageIndex = -1;
  let y = 0; // distance from the top of the page
  const bodyWidth = PAGE.width - 2 * PAGE.margin;
  const bottom = PAGE.height - PAGE.margin;
  const text = (s: string, x: number, top: number, size: number, font: PDFFont) =>
    page.drawText(s, { x, y: PAGE.height - top - size * 0.8, size, font });
  const newPage = () => {
    if (pageIndex >= 0) {
      const footer = `${v.page} ${pageIndex + 1}`;
      text(footer, (PAGE.width - regular.widthOfTextAtSize(footer, 9)) / 2, PAGE.height - 44, 9, regular);
      blocks.push({ type: 'page_number', text: footer, page: pageIndex });
    }
    page = doc.addPage([PAGE.width, PAGE.height]);
    pageIndex++;
    text(v.header, PAGE.margin, 36, 9, regular);
    blocks.push({ type: 'header', text: v.header, page: pageIndex });
    y = PAGE.margin;
  };
  const room = (height: number) => {
    if (y + height > bottom) newPage();
  };
  const paragraphAt = (s: string, x: number, top: number, width: number) => {
    const lines = wrap(s, regular, BODY, width);
    lines.forEach((line, i) => text(line, x, top + i * BODY * LEADING, BODY, regular));
    return lines.length * BODY * LEADING;
  };
  newPage();
  for (const block of content(language, seed)) {
    if (block.kind === 'heading') {
      const size = HEADING_SIZE[block.level];
      // a heading keeps some of what follows it on its page
      room(size * 3 + 160);
      y += size * 0.6;
      text(block.text, PAGE.margin, y, size, bold);
      y += size * LEADING + size * 0.3;
      blocks.push({ type: 'heading', level: block.level, text: block.text, page: pageIndex });
    } else if (block.kind === 'paragraph') {
      room(wrap(block.text, regular, BODY, bodyWidth).length * BODY * LEADING);
      y += paragraphAt(block.text, PAGE.margin, y, bodyWidth) + 8;
      blocks.push({ type: 'paragraph', text: block.text, page: pageIndex });
    } else if (block.kind === 'list') {
      room(block.items.length * BODY * LEADING * 2);
      for (const [i, item] of block.items.entries()) {
        text(block.numbered ? `${i + 1}.` : '•', PAGE.margin + 6, y, BODY, regular);
        y += paragraphAt(item, PAGE.margin + 20, y, bodyWidth - 20) + 3;
        blocks.push({ type: 'list_item', text: item, page: pageIndex });
      }
      y += 5;
    } else if (block.kind === 'columns') {
      const width = (bodyWidth - 24) / 2;
      const height = (ps: string[]) => ps.reduce((h, p) => h + wrap(p, regular, BODY, width).length * BODY * LEADING + 8, 0);
      room(Math.max(height(block.left), height(block.right)));
      let [left, right] = [y, y];
      for (const p of block.left) left += paragraphAt(p, PAGE.margin, left, width) + 8;
      for (const p of block.right) right += paragraphAt(p, PAGE.margin + width + 24, right, width) + 8;
      for (const p of [...block.left, ...block.right]) blocks.push({ type: 'paragraph', text: p, page: pageIndex });
      y = Math.max(left, right);
    } else {
      const placed = cellRows(block.rows);
      const columns = Math.max(...placed.map((p) => p.column + (p.cell.colSpan ?? 1)));
      const pad = block.ruled ? 6 : 10;
      const widths = Array.from({ length: columns }, (_, c) =>
        Math.max(
          40,
          ...placed.filter((p) => p.column === c && (p.cell.colSpan ?? 1) === 1).map((p) => bold.widthOfTextAtSize(p.cell.text, BODY) + 2 * pad),
        ),
      );
      const rowHeight = BODY * LEADING + 8;
      const rows = block.rows.length;
      room(BODY * LEADING * 2 + rows * rowHeight + 10);
      const caption = block.caption;
      text(caption, PAGE.margin, y, BODY, regular);
      blocks.push({ type: 'caption', text: caption, page: pageIndex });
      y += BODY * LEADING + 6;
      const xs = widths.reduce((acc, w) => [...acc, acc[acc.length - 1]! + w], [PAGE.margin]);
      const top = y;
      const truth = Array.from({ length: rows }, () => new Array<string>(columns).fill(''));
      for (const { row, column, cell } of placed) {
        const header = row < block.headerRows;
        const font = header ? bold : regular;
        const [x0, x1] = [xs[column]!, xs[column + (cell.colSpan ?? 1)]!];
        const cellTop = top + row * rowHeight;
        const numeric = /^[+-]?[\d,.]+%?$/.test(cell.text);
        const w = font.widthOfTextAtSize(cell.text, BODY);
        const x = header && (cell.colSpan ?? 1) > 1 ? (x0 + x1 - w) / 2 : numeric ? x1 - pad - w : x0 + pad;
        if (cell.text) text(cell.text, x, cellTop + 4, BODY, font);
        truth[row]![column] = cell.text;
        if (block.ruled) {
          const h = rowHeight * (cell.rowSpan ?? 1);
          page.drawRectangle({ x: x0, y: PAGE.height - cellTop - h, width: x1 - x0, height: h, borderWidth: 0.7, borderColor: rgb(0, 0, 0) });
        }
      }
      if (!block.ruled && block.rules) {
        // top, head and bottom rules, as tables in reports are often set
        for (const at of [top, top + block.headerRows * rowHeight, top + rows * rowHeight]) {
          page.drawLine({ start: { x: xs[0]!, y: PAGE.height - at }, end: { x: xs[columns]!, y: PAGE.height - at }, thickness: 0.6 });
        }
      }
      blocks.push({ type: 'table', text: truth.flat().filter(Boolean).join(' '), page: pageIndex });
      const cells = placed.map(({ row, column, cell }) => ({
        row,
        column,
        rowSpan: cell.rowSpan ?? 1,
        columnSpan: cell.colSpan ?? 1,
        text: cell.text,
      }));
      tables.push({ page: pageIndex, headerRows: block.headerRows, rows: truth, cells });
      y = top + rows * rowHeight + 14;
    }
  }
  const footer = `${v.page} ${pageIndex + 1}`;
  text(footer, (PAGE.width - regular.widthOfTextAtSize(footer, 9)) / 2, PAGE.height - 44, 9, regular);
  blocks.push({ type: 'page_number', text: footer, page: pageIndex });
  return { language, pdf: Buffer.from(await doc.save()), pages: pageIndex + 1, blocks, tables };
}

/**
 * The document as a scanner would give it: each page rendered at `dpi` (pdftoppm,
 * grey), turned by `skew` degrees, saved as JPEG and laid into an image-only PDF.
 */
export async function scannedCopy(pdf: Buffer, options: { dpi?: number; skew?: number } = {}): Promise<Buffer> {
  const dpi = options.dpi ?? 300;
  const dir = mkdtempSync(join(tmpdir(), 'docproc-scan-'));
  try {
    writeFileSync(join(dir, 'in.pdf'), pdf);
    execFileSync('pdftoppm', ['-r', String(dpi), '-gray', '-png', join(dir, 'in.pdf'), join(dir, 'page')]);
    const pages = [];
    for (const file of readdirSync(dir)
      .filter((f) => f.startsWith('page'))
      .sort()) {
      const image = sharp(readFileSync(join(dir, file))).rotate(options.skew ?? 0, { background: '#ffffff' });
      const { data, info } = await image.jpeg({ quality: 85 }).toBuffer({ resolveWithObject: true });
      pages.push({ kind: 'image' as const, jpeg: data, width: info.width, height: info.height, dpi });
    }
    return makePdf(pages);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
