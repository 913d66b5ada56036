/**
 * What a PDF page shows besides its pixels, for layout analysis: its text runs (placed,
 * sized, bold or not), its ruling lines (stroked segments, thin filled rectangles) and its
 * pictures, all in pixels of the page rendered at the page's resolution, y down.
 * Runs on the PDF thread (pdf-thread.ts).
 */
import type { Box, PageGeometry } from './pdf-protocol';

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfPageProxy = Awaited<ReturnType<Awaited<ReturnType<Pdfjs['getDocument']>['promise']>['getPage']>>;
type Matrix = [number, number, number, number, number, number];

/** A rule is at most this thick (points); a thicker filled rectangle is shading, not a line. */
const MAX_RULE_POINTS = 2.5;
/** Shorter segments are glyph-like marks, not rules. */
const MIN_RULE_POINTS = 8;
/** Pictures smaller than this share of the page are icons or specks. */
const MIN_FIGURE_SHARE = 0.01;

const multiply = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[2] * n[1],
  m[1] * n[0] + m[3] * n[1],
  m[0] * n[2] + m[2] * n[3],
  m[1] * n[2] + m[3] * n[3],
  m[0] * n[4] + m[2] * n[5] + m[4],
  m[1] * n[4] + m[3] * n[5] + m[5],
];
const apply = (m: Matrix, x: number, y: number): [number, number] => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];

const BOLD_NAME = /bold|black|heavy|semibold|demi/i;

export async function pageGeometry(page: PdfPageProxy, dpi: number, OPS: Pdfjs['OPS']): Promise<PageGeometry> {
  const viewport = page.getViewport({ scale: dpi / 72 });
  const toPixels = (points: [number, number][]): Box => {
    const px = points.map(([x, y]) => viewport.convertToViewportPoint(x, y) as [number, number]);
    const xs = px.map((p) => p[0]);
    const ys = px.map((p) => p[1]);
    return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
  };
  const { fnArray, argsArray } = await page.getOperatorList();
  const content = await page.getTextContent();

  const runs: PageGeometry['runs'] = [];
  for (const item of content.items) {
    if (!('str' in item) || item.str.trim() === '') continue;
    const [a, b, c, d, e, f] = item.transform as Matrix;
    const scaleX = Math.hypot(a, b) || 1;
    const size = Math.hypot(c, d) || 1;
    const style = content.styles[item.fontName];
    // pdf.js gives some standard fonts (Times) NaN metrics: typical ones then
    const sane = Number.isFinite(style?.ascent) && Number.isFinite(style?.descent) && style!.ascent - style!.descent > 0.5;
    const [ascent, descent] = sane ? [style!.ascent, style!.descent] : [0.75, -0.22];
    const text: Matrix = [a / scaleX, b / scaleX, c / size, d / size, e, f];
    const corners: [number, number][] = [
      [0, descent * size],
      [item.width, descent * size],
      [0, ascent * size],
      [item.width, ascent * size],
    ].map(([u, v]) => apply(text, u!, v!));
    const font = page.commonObjs.has(item.fontName)
      ? (page.commonObjs.get(item.fontName) as { name?: string; bold?: boolean; black?: boolean })
      : undefined;
    runs.push({ text: item.str, bbox: toPixels(corners), bold: Boolean(font?.bold || font?.black || BOLD_NAME.test(font?.name ?? '')) });
  }

  const rules: Box[] = [];
  const figures: Box[] = [];
  const [vx0, vy0, vx1, vy1] = page.view as [number, number, number, number];
  const pageArea = (vx1 - vx0) * (vy1 - vy0);
  const stack: { ctm: Matrix; lineWidth: number }[] = [];
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  let lineWidth = 1;
  const strokes = new Set<number>([OPS.stroke, OPS.closeStroke, OPS.fillStroke, OPS.eoFillStroke, OPS.closeFillStroke, OPS.closeEOFillStroke]);
  const fills = new Set<number>([OPS.fill, OPS.eoFill]);
  const images = new Set<number>([OPS.paintImageXObject, OPS.paintInlineImageXObject]);
  for (let i = 0; i < fnArray.length; i++) {
    const op = fnArray[i]!;
    const args = argsArray[i] as unknown[];
    if (op === OPS.save) stack.push({ ctm, lineWidth });
    else if (op === OPS.restore) ({ ctm, lineWidth } = stack.pop() ?? { ctm, lineWidth });
    else if (op === OPS.transform) ctm = multiply(ctm, args as Matrix);
    else if (op === OPS.setLineWidth) lineWidth = args[0] as number;
    else if (images.has(op)) {
      const corners = (
        [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ] as [number, number][]
      ).map(([x, y]) => apply(ctm, x, y));
      const xs = corners.map((p) => p[0]);
      const ys = corners.map((p) => p[1]);
      if ((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)) >= MIN_FIGURE_SHARE * pageArea) figures.push(toPixels(corners));
    } else if (op === OPS.constructPath) {
      const paint = args[0] as number;
      const path = (args[1] as ArrayLike<number>[])[0];
      if (!path || !(strokes.has(paint) || fills.has(paint))) continue;
      for (const points of subpaths(path)) {
        const placed = points.map(([x, y]) => apply(ctm, x, y));
        if (strokes.has(paint)) {
          const width = lineWidth * Math.hypot(ctm[0], ctm[1]);
          for (let k = 1; k < placed.length; k++) {
            const rule = segmentRule(placed[k - 1]!, placed[k]!, width);
            if (rule) rules.push(toPixels(rule));
          }
        } else {
          const xs = placed.map((p) => p[0]);
          const ys = placed.map((p) => p[1]);
          const [w, h] = [Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)];
          const thin = Math.min(w, h) <= MAX_RULE_POINTS && Math.max(w, h) >= MIN_RULE_POINTS;
          if (thin && placed.length >= 4) rules.push(toPixels(placed));
        }
      }
    }
  }
  return { runs, rules, figures };
}

/** A path's subpaths as point lists (pdf.js's drawing codes: 0 move, 1 line, 2 curve, 3 quadratic curve, 4 close). */
function subpaths(path: ArrayLike<number>): [number, number][][] {
  const out: [number, number][][] = [];
  let current: [number, number][] = [];
  for (let i = 0; i < path.length;) {
    const code = path[i]!;
    if (code === 0) {
      if (current.length > 1) out.push(current);
      current = [[path[i + 1]!, path[i + 2]!]];
      i += 3;
    } else if (code === 1) {
      current.push([path[i + 1]!, path[i + 2]!]);
      i += 3;
    } else if (code === 2) {
      current.push([path[i + 5]!, path[i + 6]!]);
      i += 7;
    } else if (code === 3) {
      current.push([path[i + 3]!, path[i + 4]!]);
      i += 5;
    } else {
      if (current.length > 1) current.push(current[0]!);
      i += 1;
    }
  }
  if (current.length > 1) out.push(current);
  return out;
}

/** A stroked segment as a thin box when it runs straight across or down the page. */
function segmentRule([x0, y0]: [number, number], [x1, y1]: [number, number], width: number): [number, number][] | null {
  const half = Math.max(width, 0.5) / 2;
  if (Math.abs(y1 - y0) < 1 && Math.abs(x1 - x0) >= MIN_RULE_POINTS)
    return [
      [Math.min(x0, x1), y0 - half],
      [Math.max(x0, x1), y0 + half],
    ];
  if (Math.abs(x1 - x0) < 1 && Math.abs(y1 - y0) >= MIN_RULE_POINTS)
    return [
      [x0 - half, Math.min(y0, y1)],
      [x0 + half, Math.max(y0, y1)],
    ];
  return null;
}
