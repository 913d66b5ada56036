import type { Box, Chunk, Layout, LayoutBlock, Table, TableExport } from '@docproc/catalog';

const MARGINS = new Set(['header', 'footer', 'page_number']);
const LIST_MARK = /^(?:[•·▪◦‣∙●○■□►➢*–-]\s+)/;

/** A paragraph's lines as one text: a word broken by a hyphen at a line's end is joined. */
function joinLines(lines: readonly string[]): string {
  return lines.reduce((text, line) => {
    if (text === '') return line.trim();
    if (/\p{Ll}-$/u.test(text) && /^\p{Ll}/u.test(line.trim())) return text.slice(0, -1) + line.trim();
    return `${text} ${line.trim()}`;
  }, '');
}

/** A table as rows of cell texts: a spanning cell's text in its first row and column, "" in the rest. */
export function tableRows(table: Table): string[][] {
  const rows = Array.from({ length: table.rows }, () => new Array<string>(table.columns).fill(''));
  for (const cell of table.cells) rows[cell.row]![cell.column] = cell.text;
  return rows;
}

/** One table as CSV (RFC 4180). */
export function tableCsv(table: Table): string {
  const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return tableRows(table)
    .map((row) => row.map(quote).join(','))
    .join('\r\n')
    .concat('\r\n');
}

/** The document's tables in reading order. */
export function tablesOf(layout: Layout): TableExport[] {
  return layout.pages.flatMap((page) =>
    page.blocks.flatMap((b) => (b.table ? [{ page: page.index, bbox: b.bbox, headerRows: b.table.headerRows, rows: tableRows(b.table) }] : [])),
  );
}

const cellText = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** A GFM table; GFM has one header row, so several header rows are joined per column (a row of empty headers for none). */
function markdownTable(table: Table): string {
  const rows = tableRows(table);
  const header =
    table.headerRows > 0
      ? rows[0]!.map((_, c) =>
          rows
            .slice(0, table.headerRows)
            .map((r) => cellText(r[c]!))
            .filter(Boolean)
            .join(' '),
        )
      : rows[0]!.map(() => '');
  const body = rows.slice(table.headerRows);
  const line = (cells: string[]) => `| ${cells.map(cellText).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- |').join('')}`, ...body.map(line)].join('\n');
}

/** One block as Markdown (margins give nothing). */
function blockMarkdown(b: LayoutBlock): string {
  const text = joinLines(b.lines.length > 0 ? b.lines.map((l) => l.text) : [b.text]);
  switch (b.type) {
    case 'heading':
      return `${'#'.repeat(b.level ?? 1)} ${text}`;
    case 'list_item':
      return /^\(?\d{1,3}[.)]\s/.test(text) ? text : `- ${text.replace(LIST_MARK, '')}`;
    case 'table':
      return b.table ? markdownTable(b.table) : text;
    case 'figure':
      return '<!-- figure -->';
    case 'caption':
      return `*${text}*`;
    default:
      return MARGINS.has(b.type) ? '' : text;
  }
}

/** The document as Markdown: headings, paragraphs, lists, GFM tables; each page opens with a comment. */
export function toMarkdown(layout: Layout): string {
  const parts: string[] = [];
  for (const page of layout.pages) {
    parts.push(`<!-- page ${page.index + 1} -->`);
    let previous: LayoutBlock | undefined;
    for (const b of page.blocks) {
      const md = blockMarkdown(b);
      if (md === '') continue;
      // items of one list stand on consecutive lines
      if (previous?.type === 'list_item' && b.type === 'list_item') parts[parts.length - 1] += `\n${md}`;
      else parts.push(md);
      previous = b;
    }
  }
  return `${parts.join('\n\n')}\n`;
}

/** Tokens as language models' tokenizers count them, roughly: four characters each (English BPE's rule of thumb). */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

const SENTENCE_END = /(?<=[.!?…])\s+(?=[\p{Lu}\p{N}"'“«(])/u;

/**
 * The document cut into chunks of at most `maxTokens` for retrieval: a heading starts a
 * chunk; blocks are packed in reading order; a paragraph too long is cut between sentences;
 * a table or a sentence is never cut (one longer than the limit is a chunk of its own).
 */
export function chunksOf(layout: Layout, maxTokens: number): Chunk[] {
  const chunks: Chunk[] = [];
  const path: { level: number; text: string }[] = [];
  let current: Chunk | undefined;
  const open = () => (current = { index: chunks.length, text: '', headings: path.map((h) => h.text), pages: [], boxes: [], tokens: 0 });
  const flush = () => {
    if (current && current.text !== '') chunks.push(current);
    current = undefined;
  };
  const add = (text: string, page: number, bbox: Box) => {
    const tokens = estimateTokens(text);
    if (current && current.tokens > 0 && current.tokens + tokens > maxTokens) flush();
    current ??= open();
    current.text = current.text === '' ? text : `${current.text}\n\n${text}`;
    current.tokens = estimateTokens(current.text);
    if (!current.pages.includes(page)) current.pages.push(page);
    current.boxes.push({ page, bbox });
  };
  for (const page of layout.pages)
    for (const b of page.blocks) {
      if (MARGINS.has(b.type)) continue;
      if (b.type === 'heading') {
        while (path.length > 0 && path[path.length - 1]!.level >= (b.level ?? 1)) path.pop();
        path.push({ level: b.level ?? 1, text: b.text });
        flush();
      }
      const md = blockMarkdown(b);
      if (md === '' || b.type === 'figure') continue;
      if (estimateTokens(md) <= maxTokens || b.type === 'table') add(md, page.index, b.bbox);
      else for (const sentence of md.split(SENTENCE_END)) add(sentence, page.index, b.bbox);
    }
  flush();
  return chunks;
}
