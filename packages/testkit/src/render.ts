import sharp from 'sharp';

export interface RenderOptions {
  fontSize?: number;
  /** A fontconfig family; DejaVu ships with Debian's fonts-dejavu-core. */
  font?: string;
  width?: number;
  /** Degrees to rotate the finished page by (white fills the corners). */
  rotate?: number;
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A white page with black lines of text, as PNG: a document whose words are known. */
export async function renderTextPng(lines: string[], options: RenderOptions = {}): Promise<Buffer> {
  const fontSize = options.fontSize ?? 36;
  const lineHeight = Math.round(fontSize * 1.5);
  const width = options.width ?? 1400;
  const height = lineHeight * lines.length + 2 * fontSize;
  const text = lines
    .map((line, i) => `<text x="${fontSize}" y="${fontSize + lineHeight * (i + 1) - Math.round(lineHeight / 3)}">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#fff"/>
    <g font-family="${options.font ?? 'DejaVu Sans'}" font-size="${fontSize}" fill="#000">${text}</g></svg>`;
  let image = sharp(Buffer.from(svg)).flatten({ background: '#fff' });
  if (options.rotate) image = image.rotate(options.rotate, { background: '#fff' });
  return image.png().toBuffer();
}
