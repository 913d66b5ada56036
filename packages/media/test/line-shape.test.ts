import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { greyscalePage, lineShape, readPdf, shrink, uprightByLines, type GreyImage } from '@docproc/media';
import { PROSE_LINES, corpusFile, renderTextPng } from '@docproc/testkit';

const TURNS = [0, 90, 180, 270];

async function turned(grey: GreyImage, degrees: number): Promise<GreyImage> {
  const { data, info } = await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } })
    .rotate(degrees)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Which of the page's four turns its lines call upright. */
async function calledUpright(page: GreyImage): Promise<number[]> {
  const small = await shrink(page, 1000);
  const called: number[] = [];
  for (const turn of TURNS) if (uprightByLines(lineShape(await turned(small, turn)))) called.push(turn);
  return called;
}

describe('uprightByLines (orientation detection skipped where the lines show a page upright)', () => {
  it('calls upright pages of text upright, skewed or not, and never a page turned over or on its side', async () => {
    const lines = [...PROSE_LINES, ...PROSE_LINES].slice(0, 12);
    for (const font of ['DejaVu Sans', 'DejaVu Serif']) {
      for (const skew of [-3, 2]) {
        const png = await renderTextPng(lines, { fontSize: 32, width: 2400, font, rotate: skew });
        const page = await greyscalePage({ kind: 'image', bytes: png, page: 0, maxPixels: 1e8 });
        expect({ font, skew, upright: await calledUpright(page) }).toEqual({ font, skew, upright: [0] });
      }
    }
  });

  it('leaves a chart, a map and a page without ink to orientation detection', async () => {
    const blank = { data: Buffer.alloc(800 * 1000, 255), width: 800, height: 1000 };
    expect(uprightByLines(lineShape(blank))).toBe(false);
    // a chart: grid lines across the page, a few labels
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="700"><rect width="100%" height="100%" fill="#fff"/>${[
      100, 200, 300, 400, 500, 600,
    ]
      .map((y) => `<line x1="50" x2="950" y1="${y}" y2="${y}" stroke="#000" stroke-width="2"/>`)
      .join('')}<text x="60" y="680" font-family="DejaVu Sans" font-size="20">Support by quarter</text></svg>`;
    const chart = await greyscalePage({ kind: 'image', bytes: await sharp(Buffer.from(svg)).png().toBuffer(), page: 0, maxPixels: 1e8 });
    expect(await calledUpright(chart)).toEqual([]);
  });

  // slow under jest only (typed arrays across its realms): 0.07 s a call in a worker, about 1 s here
  (existsSync(corpusFile('multipage.pdf')) ? it : it.skip)(
    'never calls a turned corpus page upright',
    async () => {
      const pages: GreyImage[] = [];
      for (const name of ['typewriter.png', 'crom.png', 'baiona.png']) {
        pages.push(await greyscalePage({ kind: 'image', bytes: readFileSync(corpusFile(name)), page: 0, maxPixels: 1e9 }));
      }
      for (const name of ['multipage.pdf', 'c02-22.pdf', 'skew.pdf', 'francais.pdf']) {
        const read = readPdf(
          readFileSync(corpusFile(name)),
          { dpi: 120, textLayer: 'ignore', languages: ['eng'] },
          { maxPages: 10, maxPagePixels: 35e6, maxImagePixels: 150e6, pageTimeoutMs: 60_000 },
        );
        for await (const page of read)
          pages.push(await greyscalePage({ kind: 'raw', pixels: page.rgba!, width: page.width, height: page.height, channels: 4 }));
      }
      const called = await Promise.all(pages.map(calledUpright));
      // only the upright turn, where the lines are clear enough to say so at all
      expect(called.flat().every((turn) => turn === 0)).toBe(true);
      // the text pages among them say so (the typewriter recipe, the French text)
      expect(called.filter((turns) => turns.includes(0)).length).toBeGreaterThanOrEqual(2);
    },
    180_000,
  );
});
