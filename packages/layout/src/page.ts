import type { LayoutBlock, LayoutPage } from '@docproc/catalog';
import { fillCells, type Grid } from './cells';
import { centreY, median, overlapX, overlapY, rounded, union } from './geometry';
import type { PageInput } from './input';
import { settleLines, type Line } from './lines';
import { paragraphs } from './paragraphs';
import { readingOrder } from './reading-order';
import { ruledGrids } from './ruled-tables';
import { unruledGrids } from './unruled-tables';

/** Headers and footers live in this share of the page's height at its top and bottom. */
const MARGIN_BAND = 0.09;
const PAGE_NUMBER = /^(?:(?:page|seite|pagina|página|p\.)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:of|sur|von|de|di|\/)\s*\d{1,4})?$/i;
const CAPTION = /^(?:figure|fig\.|table|tableau|abbildung|abb\.|tabelle|tabla|tabella|figura|tab\.)\s*[\dIVX]+/i;

function block(type: LayoutBlock['type'], lines: Line[], extra: Partial<LayoutBlock> = {}): LayoutBlock {
  const words = lines.reduce((n, l) => n + l.words.length, 0);
  const bold = lines.reduce((n, l) => n + (l.bold ? l.words.length : 0), 0) * 2 > words;
  return {
    type,
    bbox: rounded(union(lines.map((l) => l.bbox))),
    text: lines.map((l) => l.text).join(type === 'table' ? ' ' : '\n'),
    style: { size: Math.round(median(lines.map((l) => l.size)) * 10) / 10, bold },
    lines: lines.map(({ text, bbox, words: w }) => ({ text, bbox, words: w })),
    ...extra,
  };
}

/** Lines alone in the page's top or bottom band, set off from the body below or above them, no larger than its text (a title is no header). */
function marginLines(lines: Line[], height: number, textSize: number): { header: Line[]; footer: Line[] } {
  const header: Line[] = [];
  const footer: Line[] = [];
  for (const line of lines) {
    if (line.words.length > 15 || line.size > 1.15 * textSize) continue;
    const gapTo = (side: 'below' | 'above') =>
      Math.min(
        ...lines
          .filter((o) => o !== line && overlapY(o.bbox, line.bbox) <= 0)
          .map((o) => (side === 'below' ? o.bbox.y0 - line.bbox.y1 : line.bbox.y0 - o.bbox.y1))
          .filter((gap) => gap > 0),
      );
    if (line.bbox.y1 < MARGIN_BAND * height && gapTo('below') > 1.2 * line.size) header.push(line);
    else if (line.bbox.y0 > (1 - MARGIN_BAND) * height && gapTo('above') > 1.2 * line.size) footer.push(line);
  }
  return { header, footer };
}

function tableBlock(grid: Grid, lines: Line[]): { block: LayoutBlock; taken: Set<Line> } {
  const { table, taken } = fillCells(grid, lines);
  const inside = [...taken];
  const cells = table.cells.map((c) => ({ ...c, bbox: rounded(c.bbox) }));
  const text = [...cells]
    .sort((a, b) => a.row - b.row || a.column - b.column)
    .map((c) => c.text)
    .filter(Boolean)
    .join(' ');
  const size = median(inside.map((l) => l.size));
  return {
    block: {
      type: 'table',
      bbox: rounded(grid.bbox),
      text,
      style: { size: Math.round(size * 10) / 10, bold: false },
      lines: inside.map(({ text: t, bbox, words }) => ({ text: t, bbox, words })),
      table: { ...table, cells },
    },
    taken,
  };
}

/**
 * One page's layout: header and footer lines set apart, ruled tables (from ruling
 * lines), then tables laid out by whitespace, then paragraphs and list items from the
 * rest, figures and their captions, all in reading order. Headings are told from
 * paragraphs, and their levels set, across the document (assembleLayout).
 */
export function analysePage(input: PageInput): LayoutPage {
  let lines = settleLines(input.lines);
  const textSize = median(lines.map((l) => l.size)) || 10;
  const margins = marginLines(lines, input.height, textSize);
  const inMargins = new Set([...margins.header, ...margins.footer]);
  lines = lines.filter((l) => !inMargins.has(l));

  const body: LayoutBlock[] = [];
  for (const find of [() => ruledGrids(input.rules), () => unruledGrids(lines, input.rules)]) {
    for (const grid of find()) {
      const { block: table, taken } = tableBlock(grid, lines);
      if (table.table!.cells.every((c) => c.text === '')) continue;
      body.push(table);
      lines = lines.filter((l) => !taken.has(l));
    }
  }
  for (const figure of input.figures) {
    if (body.some((b) => overlapX(b.bbox, figure) > 0 && overlapY(b.bbox, figure) > 0)) continue;
    body.push({ type: 'figure', bbox: rounded(figure), text: '', style: { size: 0, bold: false }, lines: [] });
  }
  for (const text of paragraphs(lines)) {
    const type = text.type === 'paragraph' && CAPTION.test(text.lines[0]!.text) && text.lines.length <= 3 ? 'caption' : text.type;
    body.push(block(type, text.lines));
  }
  const side = (list: Line[], edge: 'header' | 'footer') =>
    list
      .sort((a, b) => centreY(a.bbox) - centreY(b.bbox) || a.bbox.x0 - b.bbox.x0)
      .map((l) => block(PAGE_NUMBER.test(l.text.trim()) ? 'page_number' : edge, [l]));
  return {
    index: input.index,
    width: input.width,
    height: input.height,
    source: input.source,
    blocks: [...side(margins.header, 'header'), ...readingOrder(body, textSize), ...side(margins.footer, 'footer')],
  };
}
