import { PDFHexString, PDFString, type PDFDocument, type PDFRef } from '@cantoo/pdf-lib';

/**
 * A font that draws nothing and stands for any character, for invisible text layers — the
 * way Tesseract's own PDF renderer does it ("GlyphLessFont"): a Type 0 font, Identity-H,
 * whose codes are the text's UTF-16 code units; every code is drawn with glyph 1 (empty,
 * half an em wide) and maps back to itself through the ToUnicode CMap. So a layer holds
 * Greek, Cyrillic, Arabic or CJK as readily as Latin, and copying gives back the text.
 */

const UNITS_PER_EM = 1000;
/** Every glyph's advance, in font units; the PDF's default width (DW) says the same. */
export const GLYPH_WIDTH = 500;

function table(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

function checksum(data: Buffer): number {
  const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

/** The smallest TrueType font PDF readers take: two empty glyphs (.notdef and the one every code uses). */
function glyphlessTrueType(): Buffer {
  const tables: Record<string, Buffer> = {
    head: table(54, (b) => {
      b.writeUInt32BE(0x00010000, 0);
      b.writeUInt32BE(0x00010000, 4);
      b.writeUInt32BE(0x5f0f3cf5, 12); // magic
      b.writeUInt16BE(0b11, 16); // flags: baseline at y=0, left sidebearing at x=0
      b.writeUInt16BE(UNITS_PER_EM, 18);
      b.writeInt16BE(0, 36);
      b.writeInt16BE(0, 38);
      b.writeInt16BE(GLYPH_WIDTH, 40);
      b.writeInt16BE(UNITS_PER_EM, 42);
      b.writeUInt16BE(3, 46); // lowest readable size
      b.writeInt16BE(2, 48); // font direction hint
      b.writeInt16BE(0, 50); // short loca offsets
    }),
    hhea: table(36, (b) => {
      b.writeUInt32BE(0x00010000, 0);
      b.writeInt16BE(800, 4); // ascender
      b.writeInt16BE(-200, 6); // descender
      b.writeUInt16BE(GLYPH_WIDTH, 10); // widest advance
      b.writeInt16BE(GLYPH_WIDTH, 16); // x extent
      b.writeInt16BE(1, 18); // caret slope rise
      b.writeUInt16BE(2, 34); // advances in hmtx
    }),
    maxp: table(32, (b) => {
      b.writeUInt32BE(0x00010000, 0);
      b.writeUInt16BE(2, 4); // glyphs
      b.writeUInt16BE(2, 14); // zones
    }),
    hmtx: table(8, (b) => {
      b.writeUInt16BE(GLYPH_WIDTH, 0);
      b.writeUInt16BE(GLYPH_WIDTH, 4);
    }),
    loca: Buffer.alloc(6), // three offsets of 0: both glyphs empty
    glyf: Buffer.alloc(0),
    post: table(32, (b) => b.writeUInt32BE(0x00030000, 0)), // no glyph names
  };
  const tags = Object.keys(tables).sort();
  const header = Buffer.alloc(12 + 16 * tags.length);
  const log2 = Math.floor(Math.log2(tags.length));
  header.writeUInt32BE(0x00010000, 0);
  header.writeUInt16BE(tags.length, 4);
  header.writeUInt16BE(16 * 2 ** log2, 6);
  header.writeUInt16BE(log2, 8);
  header.writeUInt16BE(16 * tags.length - 16 * 2 ** log2, 10);
  const bodies: Buffer[] = [];
  let offset = header.length;
  tags.forEach((tag, i) => {
    const data = tables[tag]!;
    header.write(tag.padEnd(4), 12 + 16 * i, 'latin1');
    header.writeUInt32BE(checksum(data), 16 + 16 * i);
    header.writeUInt32BE(offset, 20 + 16 * i);
    header.writeUInt32BE(data.length, 24 + 16 * i);
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    bodies.push(padded);
    offset += padded.length;
  });
  const font = Buffer.concat([header, ...bodies]);
  const headAt = 12 + 16 * tags.indexOf('head');
  font.writeUInt32BE((0xb1b0afba - checksum(font)) >>> 0, header.readUInt32BE(headAt + 8) + 8);
  return font;
}

/**
 * ToUnicode: each code stands for the UTF-16 code unit of the same value — one range over
 * all codes, as Tesseract writes it (Ghostscript reads only the low byte of ranges split at
 * every 256).
 */
function identityToUnicode(): string {
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    '1 beginbfrange',
    '<0000> <FFFF> <0000>',
    'endbfrange',
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

/** Adds the font to the document; returns its reference. */
export function embedGlyphlessFont(pdf: PDFDocument): PDFRef {
  const { context } = pdf;
  const file = context.register(context.flateStream(glyphlessTrueType()));
  const descriptor = context.register(
    context.obj({
      Type: 'FontDescriptor',
      FontName: 'GlyphLessFont',
      Flags: 5, // fixed pitch, symbolic
      FontBBox: [0, 0, GLYPH_WIDTH, UNITS_PER_EM],
      ItalicAngle: 0,
      Ascent: 800,
      Descent: -200,
      CapHeight: 800,
      StemV: 80,
      FontFile2: file,
    }),
  );
  // every CID drawn with glyph 1
  const gids = Buffer.alloc(65536 * 2);
  for (let i = 0; i < 65536; i++) gids.writeUInt16BE(1, i * 2);
  const cidToGid = context.register(context.flateStream(gids));
  const cidFont = context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      BaseFont: 'GlyphLessFont',
      CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
      FontDescriptor: descriptor,
      DW: GLYPH_WIDTH,
      CIDToGIDMap: cidToGid,
    }),
  );
  const toUnicode = context.register(context.flateStream(identityToUnicode()));
  return context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'Type0',
      BaseFont: 'GlyphLessFont',
      Encoding: 'Identity-H',
      DescendantFonts: [cidFont],
      ToUnicode: toUnicode,
    }),
  );
}

/** Text as the font's codes: UTF-16BE code units, in hex. */
export function glyphlessCodes(text: string): PDFHexString {
  let hex = '';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0');
  return PDFHexString.of(hex);
}
