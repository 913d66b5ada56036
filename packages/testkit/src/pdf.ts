import { deflateSync } from 'node:zlib';

/**
 * Minimal PDFs written by hand, so tests know exactly what a PDF holds:
 * pages of real text (Helvetica, a text layer), pages that are only a
 * scanned image (a JPEG), and an encrypted document.
 */

/** How a text page's layer is written, to make the layers text-layer scoring must see through. */
interface TextLayerStyle {
  /** Drawn invisibly (rendering mode 3), as an OCR layer over a scan is. */
  invisible?: boolean;
  /** Placed off the page (left of it). */
  offPage?: boolean;
  /** Through a font whose ToUnicode map sends each byte into CJK (what a byte-swapped UTF-16 layer reads as). */
  mojibake?: boolean;
}

export type PdfPageSpec =
  | ({ kind: 'text'; lines: string[]; fontSize?: number } & TextLayerStyle)
  /** A scanned page: a JPEG, laid upright over the page, or turned `turn` degrees clockwise about its centre (as skew.pdf is). */
  | { kind: 'image'; jpeg: Buffer; width: number; height: number; dpi?: number; turn?: number }
  /** A 1-bit scan, blank, Flate-compressed: huge ones take a few kilobytes (a monochrome scan at 1,200 dpi and more). */
  | { kind: 'bitmap'; width: number; height: number; dpi?: number }
  /** 8-bit pixels (grey, or RGB), Flate-compressed: a scan as some scanners and converters store it. */
  | { kind: 'pixels'; pixels: Buffer; channels: 1 | 3; width: number; height: number; dpi?: number };

const LETTER = { width: 612, height: 792 };

const escapeText = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);

/** The characters Windows-1252 has beyond Latin-1's, at their bytes 0x80-0x9F. */
const WIN_ANSI_EXTRA: Record<string, number> = {
  '€': 0x80,
  '‚': 0x82,
  '„': 0x84,
  '…': 0x85,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '–': 0x96,
  '—': 0x97,
};

/** Text as WinAnsiEncoding bytes (the text font's encoding): Latin-1 and the euro sign; anything else is "?". */
function winAnsi(text: string): string {
  return [...text].map((c) => (WIN_ANSI_EXTRA[c] !== undefined ? String.fromCharCode(WIN_ANSI_EXTRA[c]) : c.charCodeAt(0) < 256 ? c : '?')).join('');
}

/** Assembles numbered objects into a PDF with a correct cross-reference table. */
function assemble(objects: (string | Buffer)[], trailerExtra = ''): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
      Buffer.from('\nendobj\n', 'latin1'),
    ]);
    parts.push(chunk);
    length += chunk.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f \n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join(
    '',
  );
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra}>>\nstartxref\n${length}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** The colour space a JPEG's own frame header says it has (its component count): what the PDF must declare. */
function jpegColourSpace(jpeg: Buffer): string {
  for (let at = 2; at + 9 < jpeg.length;) {
    const marker = jpeg[at + 1]!;
    // SOF0-SOF15 carry the frame; C4, C8 and CC are other segments in that range
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return ({ 1: '/DeviceGray', 3: '/DeviceRGB', 4: '/DeviceCMYK' } as Record<number, string>)[jpeg[at + 9]!] ?? '/DeviceGray';
    }
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  return '/DeviceGray';
}

const stream = (dict: string, data: Buffer) =>
  Buffer.concat([Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')]);

/** A PDF of the given pages: text pages on US Letter, image pages at their size and dpi (default 300). */
export function makePdf(pages: PdfPageSpec[], options: { encrypt?: boolean } = {}): Buffer {
  // Objects: 1 catalog, 2 pages, 3 font, 4 the mojibake font, 5 its ToUnicode map, then per page: page, content, [image].
  const toCjk = Buffer.from(
    '/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Mojibake def\n1 begincodespacerange <00> <FF> endcodespacerange\n1 beginbfrange <20> <7E> <4E20> endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end',
    'latin1',
  );
  const objects: (string | Buffer)[] = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R >>',
    stream('', toCjk),
  ];
  const kids: number[] = [];
  for (const page of pages) {
    const pageNumber = objects.length + 1;
    kids.push(pageNumber);
    if (page.kind === 'text') {
      const size = page.fontSize ?? 14;
      const font = page.mojibake ? '/F2' : '/F1';
      const mode = page.invisible ? '3 Tr ' : '';
      const x = page.offPage ? -2000 : 72;
      const body = page.lines
        .map((line, i) => `BT ${font} ${size} Tf ${mode}${x} ${LETTER.height - 72 - i * size * 1.6} Td (${escapeText(winAnsi(line))}) Tj ET`)
        .join('\n');
      objects.push(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${LETTER.width} ${LETTER.height}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageNumber + 1} 0 R >>`,
        stream('', Buffer.from(body, 'latin1')),
      );
    } else {
      const dpi = page.dpi ?? 300;
      const image =
        page.kind === 'image'
          ? stream(
              `/Type /XObject /Subtype /Image /Width ${page.width} /Height ${page.height} /ColorSpace ${jpegColourSpace(page.jpeg)} /BitsPerComponent 8 /Filter /DCTDecode`,
              page.jpeg,
            )
          : page.kind === 'pixels'
            ? stream(
                `/Type /XObject /Subtype /Image /Width ${page.width} /Height ${page.height} /ColorSpace /Device${page.channels === 1 ? 'Gray' : 'RGB'} /BitsPerComponent 8 /Filter /FlateDecode`,
                deflateSync(page.pixels),
              )
            : stream(
                `/Type /XObject /Subtype /Image /Width ${page.width} /Height ${page.height} /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode`,
                deflateSync(Buffer.alloc(Math.ceil(page.width / 8) * page.height, 0xff)),
              );
      const w = (page.width / dpi) * 72;
      const h = (page.height / dpi) * 72;
      const turn = (((page.kind === 'image' && page.turn) || 0) * Math.PI) / 180;
      // the image's axes turned clockwise (PDF's y points up), its centre at the page's
      const [a, b, c, d] = [w * Math.cos(turn), -w * Math.sin(turn), h * Math.sin(turn), h * Math.cos(turn)];
      const matrix = [a, b, c, d, w / 2 - (a + c) / 2, h / 2 - (b + d) / 2].map((n) => n.toFixed(4)).join(' ');
      objects.push(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${w.toFixed(2)} ${h.toFixed(2)}] /Resources << /XObject << /Im0 ${pageNumber + 2} 0 R >> >> /Contents ${pageNumber + 1} 0 R >>`,
        stream('', Buffer.from(`q ${matrix} cm /Im0 Do Q`, 'latin1')),
        image,
      );
    }
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  if (!options.encrypt) return assemble(objects);
  // The standard security handler with a user password: no reader gets in without it.
  const encrypt = objects.length + 1;
  objects.push(`<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <${'ab'.repeat(32)}> /U <${'cd'.repeat(32)}> >>`);
  return assemble(objects, `/Encrypt ${encrypt} 0 R /ID [<${'01'.repeat(16)}> <${'01'.repeat(16)}>] `);
}
