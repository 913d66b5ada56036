import { median, overlapX, union, width } from './geometry';
import { startsListItem, type Line } from './lines';

/** Lines that read as one: a paragraph or a list item, before headings are told apart. */
export interface TextBlock {
  type: 'paragraph' | 'list_item';
  lines: Line[];
}

const sameStyle = (a: Line, b: Line) => a.bold === b.bold && Math.abs(a.size - b.size) <= 0.15 * Math.max(a.size, b.size);

/**
 * Lines joined into paragraphs: each line goes on the block whose last line stands right
 * above it (the nearest line above that shares its columns), when they are close, alike
 * in size and weight, and nothing says a new block starts — a list mark, or an indented
 * first line after a short last one.
 */
export function paragraphs(lines: readonly Line[]): TextBlock[] {
  const sorted = [...lines].sort((a, b) => a.bbox.y0 - b.bbox.y0 || a.bbox.x0 - b.bbox.x0);
  const blocks: TextBlock[] = [];
  const blockOf = new Map<Line, TextBlock>();
  sorted.forEach((line, i) => {
    let above: Line | undefined;
    for (let j = i - 1; j >= 0; j--) {
      const other = sorted[j]!;
      if (other.bbox.y1 > line.bbox.y0 + 0.3 * line.size) continue;
      if (overlapX(other.bbox, line.bbox) <= 0.3 * Math.min(width(other.bbox), width(line.bbox))) continue;
      if (!above || other.bbox.y1 > above.bbox.y1) above = other;
    }
    const block = above ? blockOf.get(above) : undefined;
    const last = block?.lines[block.lines.length - 1];
    const joins =
      block !== undefined &&
      last !== undefined &&
      last === above &&
      line.bbox.y0 - last.bbox.y1 <= 0.75 * Math.max(line.size, last.size) &&
      sameStyle(last, line) &&
      !startsListItem(line) &&
      !newParagraphByIndent(block, line) &&
      (block.type === 'paragraph' || line.bbox.x0 > block.lines[0]!.bbox.x0 + 0.3 * line.size);
    if (joins) {
      block.lines.push(line);
      blockOf.set(line, block);
    } else {
      const fresh: TextBlock = { type: startsListItem(line) ? 'list_item' : 'paragraph', lines: [line] };
      blocks.push(fresh);
      blockOf.set(line, fresh);
    }
  });
  return blocks;
}

/** A paragraph whose last line ended short with a full stop, then an indented line: a new paragraph. */
function newParagraphByIndent(block: TextBlock, line: Line): boolean {
  if (block.type !== 'paragraph' || block.lines.length < 2) return false;
  const box = union(block.lines.map((l) => l.bbox));
  const last = block.lines[block.lines.length - 1]!;
  const size = median(block.lines.map((l) => l.size));
  return /[.!?:]$/.test(last.text) && last.bbox.x1 < box.x1 - 3 * size && line.bbox.x0 > box.x0 + size;
}
