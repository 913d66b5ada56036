import type { Layout, LayoutBlock, LayoutPage } from '@docproc/catalog';
import { median } from './geometry';

/** A block's text as it repeats from page to page: numbers (page numbers, dates) aside. */
const repeatable = (text: string) => text.toLowerCase().replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();

/**
 * Running heads and feet the page bands missed: the first or last body block of a page
 * whose text (numbers aside) stands at the top or bottom of at least half the pages.
 */
function markRepeatedMargins(pages: LayoutPage[]): void {
  if (pages.length < 2) return;
  const seen = new Map<string, number>();
  const edges = pages.map((page) => {
    const body = page.blocks.filter((b) => !['header', 'footer', 'page_number'].includes(b.type));
    const first = body[0];
    const last = body[body.length - 1];
    const top = first && first.bbox.y1 < 0.15 * page.height && first.lines.length <= 2 ? first : undefined;
    const bottom = last && last.bbox.y0 > 0.85 * page.height && last.lines.length <= 2 ? last : undefined;
    for (const b of new Set([top, bottom])) if (b) seen.set(repeatable(b.text), (seen.get(repeatable(b.text)) ?? 0) + 1);
    return { top, bottom };
  });
  const repeated = (b: LayoutBlock | undefined) => b !== undefined && (seen.get(repeatable(b.text)) ?? 0) >= Math.max(2, pages.length / 2);
  for (const { top, bottom } of edges) {
    if (repeated(top)) top!.type = 'header';
    if (repeated(bottom)) bottom!.type = 'footer';
  }
  // margins read first and last on their page
  for (const page of pages) {
    const rank = (b: LayoutBlock) => (b.type === 'header' ? 0 : b.type === 'footer' || b.type === 'page_number' ? 2 : 1);
    page.blocks = page.blocks
      .map((b, i) => ({ b, i }))
      .sort((x, y) => rank(x.b) - rank(y.b) || x.i - y.i)
      .map((x) => x.b);
  }
}

/** The body text's size: the median line size over paragraph and list lines, by words. */
function bodySize(pages: LayoutPage[]): number {
  const sizes = pages.flatMap((p) =>
    p.blocks.filter((b) => b.type === 'paragraph' || b.type === 'list_item').flatMap((b) => b.lines.flatMap((l) => l.words.map(() => b.style.size))),
  );
  return median(sizes);
}

function looksLikeHeading(b: LayoutBlock, body: number): boolean {
  // text without geometry (plain text) has no sizes to tell headings by
  if (b.type !== 'paragraph' || b.style.size === 0 || b.lines.length > 3 || b.text.length > 200) return false;
  if (!/\p{L}{2,}/u.test(b.text) || /[.,;:]$/.test(b.text.trim())) return false;
  return b.style.size >= 1.15 * body || (b.style.bold && b.style.size >= 0.9 * body);
}

/**
 * Headings told apart and levelled across the document: a short block, larger than
 * the body text or bold, not ending like a sentence. Sizes within a tenth of each other
 * share a level; larger sizes come first, and bold before regular at the same size.
 */
function markHeadings(pages: LayoutPage[]): void {
  const body = bodySize(pages);
  const headings = pages.flatMap((p) => p.blocks.filter((b) => looksLikeHeading(b, body)));
  const sizes = [...new Set(headings.map((h) => h.style.size))].sort((a, b) => b - a);
  const clusters: number[][] = [];
  for (const s of sizes) {
    const c = clusters[clusters.length - 1];
    if (c && c[0]! - s <= 0.1 * c[0]!) c.push(s);
    else clusters.push([s]);
  }
  const sizeRank = (s: number) => clusters.findIndex((c) => c.includes(s));
  const keys = [...new Set(headings.map((h) => sizeRank(h.style.size) * 2 + (h.style.bold ? 0 : 1)))].sort((a, b) => a - b);
  for (const h of headings) {
    h.type = 'heading';
    h.level = Math.min(6, keys.indexOf(sizeRank(h.style.size) * 2 + (h.style.bold ? 0 : 1)) + 1);
    h.text = h.text.replace(/\s*\n\s*/g, ' ');
  }
}

/** The document's layout from its pages' (analysePage), in page order: running heads and feet found, headings levelled. */
export function assembleLayout(pages: readonly LayoutPage[]): Layout {
  const copy: LayoutPage[] = structuredClone([...pages].sort((a, b) => a.index - b.index));
  markRepeatedMargins(copy);
  markHeadings(copy);
  return { pages: copy };
}

/** Plain text as a layout: one page of paragraphs (blank lines between them), no boxes. */
export function plainTextLayout(text: string): Layout {
  const zero = { x0: 0, y0: 0, x1: 0, y1: 0 };
  const item = /^(?:[-*•]|\d{1,3}[.)])\s/;
  const block = (type: LayoutBlock['type'], lines: string[]): LayoutBlock => ({
    type,
    bbox: zero,
    text: lines.join('\n'),
    style: { size: 0, bold: false },
    lines: lines.map((l) => ({ text: l, bbox: zero, words: [] })),
  });
  const blocks = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((p) => {
      const lines = p.split('\n').map((l) => l.trim());
      // a list: each marked line an item of its own
      return lines.every((l) => item.test(l)) ? lines.map((l) => block('list_item', [l])) : [block('paragraph', lines)];
    });
  return { pages: [{ index: 0, width: 0, height: 0, source: 'text', blocks }] };
}
