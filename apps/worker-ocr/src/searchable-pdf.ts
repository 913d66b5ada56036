import {
  PDFDocument,
  TextRenderingMode,
  beginText,
  endText,
  popGraphicsState,
  pushGraphicsState,
  setCharacterSqueeze,
  setFontAndSize,
  setTextMatrix,
  setTextRenderingMode,
  showText,
  type PDFPage,
  type PDFRef,
} from '@cantoo/pdf-lib';
import sharp from 'sharp';
import type { OcrResult, PreprocessResult } from '@docproc/catalog';
import { analysePage, letterSize } from '@docproc/layout';
import { GLYPH_WIDTH, embedGlyphlessFont, glyphlessCodes } from './glyphless-font';

type PreparedPage = PreprocessResult['pages'][number];
type ReadPage = OcrResult['pages'][number];
interface Point {
  x: number;
  y: number;
}

/** Where a page's pixels came from, for placing words back on it. */
interface Geometry {
  /** The page image OCR read, in pixels. */
  width: number;
  height: number;
  /** Degrees it was turned clockwise to stand upright (orientation detection; EXIF not included). */
  turn: number;
  /** Degrees it was rotated clockwise to straighten its lines. */
  straighten: number;
}

/**
 * A point of the image OCR read, back in the page as it was given (upright as displayed,
 * before orientation detection turned it and deskewing rotated it), in the same pixels.
 * sharp rotates about the centre and grows the canvas to hold the rotated page.
 */
export function toSourcePixels(point: Point, page: Geometry): Point {
  const a = (page.straighten * Math.PI) / 180;
  const { w, h } = beforeStraightening(page);
  const [dx, dy] = [point.x - page.width / 2, point.y - page.height / 2];
  // undo a clockwise rotation by a (y points down)
  const x = dx * Math.cos(a) + dy * Math.sin(a) + w / 2;
  const y = -dx * Math.sin(a) + dy * Math.cos(a) + h / 2;
  switch (((page.turn % 360) + 360) % 360) {
    case 90:
      return { x: y, y: w - x };
    case 180:
      return { x: w - x, y: h - y };
    case 270:
      return { x: h - y, y: x };
    default:
      return { x, y };
  }
}

/** The turned page's size before straightening: the straightened canvas (width, height) held it as width = w c + h s, height = w s + h c. */
function beforeStraightening(page: Omit<Geometry, 'turn'>): { w: number; h: number } {
  const a = (page.straighten * Math.PI) / 180;
  const [c, s] = [Math.abs(Math.cos(a)), Math.abs(Math.sin(a))];
  return { w: (page.width * c - page.height * s) / (c * c - s * s), h: (page.height * c - page.width * s) / (c * c - s * s) };
}

/** Maps a point of the displayed page (points from its top-left) into the page's user space, given its crop box and /Rotate. */
function toUserSpace(p: Point, box: { x: number; y: number; width: number; height: number }, rotate: number): Point {
  const [x0, y0, x1, y1] = [box.x, box.y, box.x + box.width, box.y + box.height];
  switch (((rotate % 360) + 360) % 360) {
    case 90:
      return { x: x0 + p.y, y: y0 + p.x };
    case 180:
      return { x: x1 - p.x, y: y0 + p.y };
    case 270:
      return { x: x1 - p.y, y: y1 - p.x };
    default:
      return { x: x0 + p.x, y: y1 - p.y };
  }
}

/**
 * Lays each recognised line on the page as invisible text (rendering mode 3, as Tesseract
 * and OCRmyPDF do) in the glyphless font: one size for the line (its height), along the
 * line's baseline, each word where it is printed and stretched to its width, lines in the order OCR read
 * them (Tesseract's blocks: column by column), so that selecting, searching and
 * extracting find the words where they are and read them in order.
 */
function addTextLayer(pdfPage: PDFPage, font: PDFRef, read: ReadPage, prepared: PreparedPage, exifTurn: number, pointsPerPixel: number): void {
  const box = pdfPage.getCropBox();
  const rotate = pdfPage.getRotation().angle;
  const geometry: Geometry = { width: prepared.width, height: prepared.height, turn: prepared.rotation - exifTurn, straighten: prepared.skewAngle };
  const toUser = (p: Point) => {
    const source = toSourcePixels(p, geometry);
    return toUserSpace({ x: source.x * pointsPerPixel, y: source.y * pointsPerPixel }, box, rotate);
  };
  const fontName = pdfPage.node.newFontDictionary('GlyphLessFont', font);
  pdfPage.pushOperators(pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible));
  for (const line of linesOf(read, prepared.width, prepared.height)) {
    const top = Math.min(...line.map((w) => w.bbox.y0));
    const bottom = Math.max(...line.map((w) => w.bbox.y1));
    // the glyphless font rises 0.8 of its size above the baseline and falls 0.2 below: sized to the line's height, it covers the line
    const size = Math.max(1, (bottom - top) * pointsPerPixel);
    const baseline = top + 0.8 * (bottom - top);
    const start = toUser({ x: Math.min(...line.map((w) => w.bbox.x0)), y: baseline });
    const end = toUser({ x: Math.max(...line.map((w) => w.bbox.x1)), y: baseline });
    // The line lies level (in the page's own quarter turn) through the middle of its real
    // baseline: poppler's pdftotext breaks a line that climbs even 1.5° into pieces and
    // reads them out of order (Tesseract's own PDFs too), so on a skewed scan the words at a
    // line's ends sit up to half its climb off the print (docs/architecture.md).
    const angle = (Math.round(Math.atan2(end.y - start.y, end.x - start.x) / (Math.PI / 2)) * Math.PI) / 2;
    const [cos, sin] = [Math.round(Math.cos(angle)), Math.round(Math.sin(angle))];
    const across = (-(start.x + end.x) / 2) * sin + ((start.y + end.y) / 2) * cos;
    const level = (p: Point) => {
      const t = p.x * cos + p.y * sin;
      return { x: t * cos - across * sin, y: t * sin + across * cos };
    };
    line.forEach((word, i) => {
      const text = word.text.trim();
      if (text === '') return;
      const from = level(toUser({ x: word.bbox.x0, y: baseline }));
      const to = level(toUser({ x: word.bbox.x1, y: baseline }));
      const width = (to.x - from.x) * cos + (to.y - from.y) * sin;
      const natural = (text.length * GLYPH_WIDTH * size) / 1000;
      if (width <= 0) return;
      pdfPage.pushOperators(
        setFontAndSize(fontName, size),
        setCharacterSqueeze((100 * width) / natural),
        setTextMatrix(cos, sin, -sin, cos, from.x, from.y),
        // a space after each word but the line's last, so that copied text has its spaces
        showText(glyphlessCodes(i < line.length - 1 ? `${visual(text)} ` : visual(text))),
      );
    });
  }
  pdfPage.pushOperators(endText(), popGraphicsState());
}

type Word = ReadPage['words'][number];

/** Right-to-left words are drawn in visual order: their letters reversed, as a PDF reader reverses them back. */
const RIGHT_TO_LEFT = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}]/u;
const visual = (text: string) => (RIGHT_TO_LEFT.test(text) ? [...text].reverse().join('') : text);

/**
 * The page's lines in reading order: OCR's lines (a word that does not follow the last on
 * its level starts one), set into blocks and ordered by the layout analysis — columns one
 * after the other, a table row by row, running heads first — whether or not the job asked
 * for the layout itself.
 */
function linesOf(read: ReadPage, width: number, height: number): Word[][] {
  const lines: Word[][] = [];
  for (const word of read.words) {
    const line = lines[lines.length - 1];
    const last = line?.[line.length - 1];
    const middle = (word.bbox.y0 + word.bbox.y1) / 2;
    if (last && word.bbox.x0 >= last.bbox.x0 && middle >= last.bbox.y0 && middle <= last.bbox.y1) line!.push(word);
    else lines.push([word]);
  }
  const input = lines.map((words) => ({ words, size: letterSize(words) ?? words[0]!.bbox.y1 - words[0]!.bbox.y0, bold: false }));
  const page = analysePage({ index: read.index, width, height, source: 'ocr', lines: input, rules: [], figures: [] });
  return page.blocks.flatMap((block) => block.lines.map((line) => line.words.map((w) => ({ confidence: 0, ...w }))));
}

const EXIF_TURN: Record<number, number> = { 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270 };

/** A page for an image: the image upright (EXIF applied), at the size its resolution gives. */
async function imagePage(pdf: PDFDocument, original: Buffer, index: number, pages: number, prepared: PreparedPage, exifTurn: number) {
  const metadata = await sharp(original, { page: index }).metadata();
  const asIs = pages === 1 && exifTurn === 0 && (metadata.format === 'jpeg' || metadata.format === 'png');
  const bytes = asIs ? original : await sharp(original, { page: index }).rotate().png().toBuffer();
  const image = metadata.format === 'jpeg' && asIs ? await pdf.embedJpg(bytes) : await pdf.embedPng(bytes);
  // The upright source's size in OCR-image pixels: the turned and straightened page, undone.
  const pointsPerPixel = 72 / (prepared.dpi ?? 300);
  const source = sourceSize(prepared, prepared.rotation - exifTurn);
  const width = source.width * pointsPerPixel;
  const height = source.height * pointsPerPixel;
  const page = pdf.addPage([width, height]);
  page.drawImage(image, { x: 0, y: 0, width, height });
  return { page, pointsPerPixel };
}

/** The size, in OCR-image pixels, of the page as it was given (before turning and straightening). */
function sourceSize(prepared: PreparedPage, turn: number): { width: number; height: number } {
  const { w, h } = beforeStraightening({ width: prepared.width, height: prepared.height, straighten: prepared.skewAngle });
  return turn % 180 === 0 ? { width: w, height: h } : { width: h, height: w };
}

/**
 * The searchable PDF of a document: for a PDF, its own pages untouched but for an
 * invisible text layer on each page OCR read (pages that kept their own trustworthy layer
 * are left as they were); for an image, each page of it on a page of its size, with the
 * layer. The words are placed from their OCR boxes back through the page's preparation.
 */
export async function searchablePdf(original: Buffer, pre: PreprocessResult, ocr: OcrResult): Promise<Buffer> {
  const isPdf = pre.mediaType === 'application/pdf';
  const pdf = isPdf ? await PDFDocument.load(original, { updateMetadata: false }) : await PDFDocument.create();
  const font = embedGlyphlessFont(pdf);
  const exifTurn = isPdf ? 0 : (EXIF_TURN[(await sharp(original).metadata()).orientation ?? 1] ?? 0);
  for (const prepared of pre.pages) {
    const read = ocr.pages.find((p) => p.index === prepared.index);
    if (isPdf) {
      if (!read || read.source !== 'ocr' || prepared.blobKey === null) continue;
      const page = pdf.getPage(prepared.index);
      addTextLayer(page, font, read, prepared, 0, 72 / (prepared.dpi ?? 300));
    } else {
      const { page, pointsPerPixel } = await imagePage(pdf, original, prepared.index, pre.pages.length, prepared, exifTurn);
      if (read) addTextLayer(page, font, read, prepared, exifTurn, pointsPerPixel);
    }
  }
  if (!isPdf) pdf.setProducer('docproc');
  return Buffer.from(await pdf.save());
}
