import {
  PDFDocument,
  StandardFonts,
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
  type PDFFont,
  type PDFPage,
} from '@cantoo/pdf-lib';
import sharp from 'sharp';
import type { OcrResult, PreprocessResult } from '@docproc/catalog';

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

/** The text as the standard font can encode it: letters it lacks lose their accents, or become "?". */
function encodable(font: PDFFont, text: string): string {
  const supported = new Set(font.getCharacterSet());
  return [...text]
    .map((ch) => {
      if (supported.has(ch.codePointAt(0)!)) return ch;
      const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
      return [...base].every((b) => supported.has(b.codePointAt(0)!)) && base !== '' ? base : '?';
    })
    .join('');
}

/**
 * Lays each recognised word on the page as invisible text (rendering mode 3, as Tesseract
 * and OCRmyPDF do), along its baseline and squeezed to its width, so that selecting or
 * searching finds it where it is printed.
 */
function addTextLayer(pdfPage: PDFPage, font: PDFFont, read: ReadPage, prepared: PreparedPage, exifTurn: number, pointsPerPixel: number): void {
  const box = pdfPage.getCropBox();
  const rotate = pdfPage.getRotation().angle;
  const geometry: Geometry = { width: prepared.width, height: prepared.height, turn: prepared.rotation - exifTurn, straighten: prepared.skewAngle };
  const toUser = (p: Point) => {
    const source = toSourcePixels(p, geometry);
    return toUserSpace({ x: source.x * pointsPerPixel, y: source.y * pointsPerPixel }, box, rotate);
  };
  const fontName = pdfPage.node.newFontDictionary(font.name, font.ref);
  pdfPage.pushOperators(pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible));
  for (const line of linesOf(read.words)) {
    // A line's words share one baseline, straight along the page's own axes: text
    // extraction splits words drawn a few degrees off and jumbles lines that climb, so on
    // a skewed scan each line lies level through its middle (only a page on its side or
    // upside down turns the text).
    const middle = (Math.min(...line.map((w) => w.bbox.y0)) + Math.max(...line.map((w) => w.bbox.y1))) / 2;
    const first = toUser({ x: Math.min(...line.map((w) => w.bbox.x0)), y: middle });
    const last = toUser({ x: Math.max(...line.map((w) => w.bbox.x1)), y: middle });
    const angle = (Math.round(Math.atan2(last.y - first.y, last.x - first.x) / (Math.PI / 2)) * Math.PI) / 2;
    const [cos, sin] = [Math.round(Math.cos(angle)), Math.round(Math.sin(angle))];
    const along = (p: Point) => p.x * cos + p.y * sin;
    const across = (-(first.x + last.x) / 2) * sin + ((first.y + last.y) / 2) * cos;
    for (const word of line) {
      const text = encodable(font, word.text.trim());
      if (text === '') continue;
      const [a, b] = [along(toUser({ x: word.bbox.x0, y: middle })), along(toUser({ x: word.bbox.x1, y: middle }))];
      const size = Math.max(1, (word.bbox.y1 - word.bbox.y0) * pointsPerPixel);
      const natural = font.widthOfTextAtSize(text, size);
      if (a === b || natural === 0) continue;
      // the baseline a quarter of the size below the line's middle
      const [t, n] = [Math.min(a, b), across - 0.25 * size];
      pdfPage.pushOperators(
        setFontAndSize(fontName, size),
        setCharacterSqueeze((100 * Math.abs(b - a)) / natural),
        setTextMatrix(cos, sin, -sin, cos, t * cos - n * sin, t * sin + n * cos),
        showText(font.encodeText(`${text} `)),
      );
    }
  }
  pdfPage.pushOperators(endText(), popGraphicsState());
}

type Word = ReadPage['words'][number];

/** Words in reading order, grouped into lines: a word joins a line its middle lies within (in the image OCR read, where lines are level). */
function linesOf(words: Word[]): Word[][] {
  const lines: { y0: number; y1: number; words: Word[] }[] = [];
  for (const word of [...words].sort((a, b) => a.bbox.y0 + a.bbox.y1 - (b.bbox.y0 + b.bbox.y1))) {
    const middle = (word.bbox.y0 + word.bbox.y1) / 2;
    const line = lines.find((l) => middle >= l.y0 && middle <= l.y1);
    if (line) {
      line.words.push(word);
      line.y0 = Math.min(line.y0, word.bbox.y0);
      line.y1 = Math.max(line.y1, word.bbox.y1);
    } else lines.push({ y0: word.bbox.y0, y1: word.bbox.y1, words: [word] });
  }
  return lines.map((l) => l.words.sort((a, b) => a.bbox.x0 - b.bbox.x0));
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
  const font = await pdf.embedFont(StandardFonts.Helvetica);
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
