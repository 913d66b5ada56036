import sharp from 'sharp';
import { seededRandom as random } from './random';

export interface RenderOptions {
  fontSize?: number;
  /** A fontconfig family; DejaVu ships with Debian's fonts-dejavu-core. */
  font?: string;
  width?: number;
  /** Degrees to rotate the finished page by (white fills the corners). */
  rotate?: number;
  /** Fraction of pixels turned into dark speckles (0-1), as a poor scan has; reproducible. */
  noise?: number;
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
  if (options.noise) {
    const { data, info } = await image.greyscale().raw().toBuffer({ resolveWithObject: true });
    const next = random(lines.join('').length);
    for (let i = 0; i < data.length; i++) if (next() < options.noise) data[i] = Math.floor(next() * 128);
    image = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  }
  if (options.rotate) image = image.rotate(options.rotate, { background: '#fff' });
  return image.png().toBuffer();
}

/** Text whose every character is known: plain English prose with digits and punctuation, a line each. */
export const PROSE_LINES = [
  'The committee met on 14 March 2024 to review the budget.',
  'Revenue rose by 12.5 percent, while costs fell slightly.',
  'Members agreed to publish the report before the summer.',
  'Questions about the figures should go to the treasurer.',
  'A second meeting is planned for the first week of June.',
  'Please bring copies of the draft and your comments.',
];
