import type { Box, Layout } from '@docproc/catalog';
import { analysePage, assembleLayout, chunksOf, tableCsv, tablesOf, toMarkdown, type InputLine, type PageInput } from '../src';

/** A line of words set at (x, y) in a monospaced way: 20 px a character, letters 40 px tall. */
function line(text: string, x: number, y: number, options: { size?: number; bold?: boolean } = {}): InputLine {
  const size = options.size ?? 40;
  const words = [];
  let at = x;
  for (const word of text.split(' ')) {
    words.push({ text: word, bbox: { x0: at, y0: y, x1: at + word.length * size * 0.5, y1: y + size } });
    at += (word.length + 1) * size * 0.5;
  }
  return { words, size, bold: options.bold ?? false };
}

const page = (lines: InputLine[], rules: Box[] = []): PageInput => ({
  index: 0,
  width: 2550,
  height: 3300,
  source: 'ocr',
  lines,
  rules,
  figures: [],
});

const body = (layout: Layout) => layout.pages.flatMap((p) => p.blocks.map((b) => [b.type, b.text.split('\n')[0]]));

describe('layout analysis', () => {
  it('reads two columns column by column, below a heading that spans them, and keeps the page number apart', () => {
    const lines = [
      line('Annual Report', 300, 300, { size: 80, bold: true }),
      line('left one', 300, 500),
      line('left two', 300, 560),
      line('right one', 1400, 500),
      line('right two', 1400, 560),
      line('Closing words', 300, 800, { size: 60, bold: true }),
      line('after both columns', 300, 900),
      line('7', 1270, 3150),
    ];
    const layout = assembleLayout([analysePage(page(lines))]);
    expect(body(layout)).toEqual([
      ['heading', 'Annual Report'],
      ['paragraph', 'left one'],
      ['paragraph', 'right one'],
      ['heading', 'Closing words'],
      ['paragraph', 'after both columns'],
      ['page_number', '7'],
    ]);
    expect(layout.pages[0]!.blocks.filter((b) => b.type === 'heading').map((b) => b.level)).toEqual([1, 2]);
    expect(layout.pages[0]!.blocks[1]!.text).toBe('left one\nleft two');
  });

  it('makes a grid of ruling lines a table, a missing rule a spanning cell, and a bold first row its header', () => {
    const h = (y: number) => ({ x0: 300, y0: y, x1: 1500, y1: y + 3 });
    const v = (x: number, y0 = 400, y1 = 700) => ({ x0: x, y0, x1: x + 3, y1 });
    // three rows, three columns; the rule between the first row's last two cells is missing
    const rules = [h(400), h(500), h(600), h(700), v(300), v(700), v(1100, 500, 700), v(1500)];
    const lines = [
      line('Region', 320, 430, { bold: true }),
      line('Year', 900, 430, { bold: true }),
      line('North', 320, 530),
      line('12', 720, 530),
      line('+3%', 1120, 530),
      line('South', 320, 630),
      line('40', 720, 630),
      line('-1%', 1120, 630),
    ];
    const [table] = tablesOf(assembleLayout([analysePage(page(lines, rules))]));
    expect(table).toMatchObject({
      headerRows: 1,
      rows: [
        ['Region', 'Year', ''],
        ['North', '12', '+3%'],
        ['South', '40', '-1%'],
      ],
    });
  });

  it('finds a table set by whitespace alone, but leaves two columns of prose alone', () => {
    const table = [
      ['Item', 'Qty', 'Price'],
      ['Bolts', '12', '3.50'],
      ['Nuts', '40', '1.20'],
      ['Washers', '100', '0.80'],
    ].flatMap((cells, r) => cells.map((c, k) => line(c, 300 + k * 500, 400 + r * 60)));
    const prose = ['the harbour handled more cargo', 'than in any year since the new', 'quay was opened in the spring'].flatMap((t, r) => [
      line(t, 300, 1200 + r * 50),
      line(t, 1400, 1200 + r * 50),
    ]);
    const layout = assembleLayout([analysePage(page([...table, ...prose]))]);
    expect(tablesOf(layout).map((t) => t.rows)).toEqual([
      [
        ['Item', 'Qty', 'Price'],
        ['Bolts', '12', '3.50'],
        ['Nuts', '40', '1.20'],
        ['Washers', '100', '0.80'],
      ],
    ]);
    expect(tablesOf(layout)[0]!.headerRows).toBe(1);
    expect(layout.pages[0]!.blocks.filter((b) => b.type === 'paragraph')).toHaveLength(2);
  });

  it('takes a bullet OCR read as another mark for a list item, and a short bold line for a heading', () => {
    const lines = [line('Findings', 300, 300, { bold: true }), line('¢ first point', 300, 400), line('* second point', 300, 460)];
    // the mark stands apart from its text, as a list's indent does
    for (const l of lines.slice(1)) l.words.slice(1).forEach((w) => ((w.bbox.x0 += 40), (w.bbox.x1 += 40)));
    const markdown = toMarkdown(assembleLayout([analysePage(page([...lines, line('A paragraph of body text follows.', 300, 600)]))]));
    expect(markdown).toBe('<!-- page 1 -->\n\n# Findings\n\n- first point\n- second point\n\nA paragraph of body text follows.\n');
  });
});

describe('exports', () => {
  const layout: Layout = assembleLayout([
    analysePage(
      page([
        line('Report', 300, 200, { size: 80, bold: true }),
        ...Array.from({ length: 6 }, (_, i) => line(`Sentence number ${i} ends here. Another one follows it.`, 300, 400 + i * 50)),
        line('Section', 300, 900, { size: 60, bold: true }),
        line('Short text.', 300, 1000),
      ]),
    ),
  ]);

  it('cuts chunks between sentences, each under its headings and within the limit', () => {
    const chunks = chunksOf(layout, 40);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(40);
      expect(chunk.text).toMatch(/(^#|[.])$/m);
    }
    expect(chunks[0]!.headings).toEqual(['Report']);
    expect(chunks.at(-1)).toMatchObject({ headings: ['Report', 'Section'], pages: [0] });
    expect(chunks.at(-1)!.text).toBe('## Section\n\nShort text.');
  });

  it('quotes CSV cells as RFC 4180 asks', () => {
    const table = { rows: 2, columns: 2, headerRows: 1, ruled: false, cells: [] as never[] };
    const cell = (row: number, column: number, text: string) => ({
      row,
      column,
      rowSpan: 1,
      columnSpan: 1,
      text,
      bbox: { x0: 0, y0: 0, x1: 0, y1: 0 },
    });
    expect(tableCsv({ ...table, cells: [cell(0, 0, 'Name'), cell(0, 1, 'Note'), cell(1, 0, 'Smith, J.'), cell(1, 1, 'said "yes"')] })).toBe(
      'Name,Note\r\n"Smith, J.","said ""yes"""\r\n',
    );
  });
});
