import sharp from 'sharp';
import {
  USABLE_TEXT_SCORE,
  estimateSkew,
  finishPage,
  greyscalePage,
  pageScale,
  readPgm,
  scoreTextLayer,
  shrink,
  speckleRatio,
  toPgm,
} from '@docproc/media';
import { renderTextPng } from '@docproc/testkit';

const LINES = [
  'The quick brown fox jumps over the lazy dog.',
  'Pack my box with five dozen liquor jugs.',
  'How vexingly quick daft zebras jump!',
  'Sphinx of black quartz, judge my vow.',
];

describe('estimateSkew', () => {
  it.each([0, 3, -5, 8, -12])('finds text lines rotated by %d degrees within a quarter degree', async (degrees) => {
    const png = await sharp(await renderTextPng(LINES, { fontSize: 32 }))
      .rotate(degrees, { background: '#fff' })
      .png()
      .toBuffer();
    const grey = await shrink(await greyscalePage({ kind: 'image', bytes: png, page: 0, maxPixels: 1e8 }), 1000);
    const skew = estimateSkew(grey);
    expect(Math.abs(skew.angle - degrees)).toBeLessThanOrEqual(0.25);
    if (degrees !== 0) expect(skew.gain).toBeGreaterThan(1.5);
  });

  it('says nothing of a blank page', async () => {
    const blank = await sharp({ create: { width: 800, height: 1000, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    expect(estimateSkew(await greyscalePage({ kind: 'image', bytes: blank, page: 0, maxPixels: 1e8 }))).toEqual({ angle: 0, gain: 1 });
  });
});

describe('speckleRatio', () => {
  it('tells scanner noise from clean print', async () => {
    const clean = await greyscalePage({ kind: 'image', bytes: await renderTextPng(LINES), page: 0, maxPixels: 1e8 });
    const noisy = await greyscalePage({ kind: 'image', bytes: await renderTextPng(LINES, { noise: 0.01 }), page: 0, maxPixels: 1e8 });
    expect(speckleRatio(clean)).toBeLessThan(0.0002);
    expect(speckleRatio(noisy)).toBeGreaterThan(0.002);
  });
});

describe('pageScale', () => {
  it('brings a believable density to the target resolution', () => {
    expect(pageScale(1275, 1650, { dpi: 150, known: false }, 300, 35e6)).toEqual({ dpi: 300, scale: 2 });
    expect(pageScale(2550, 3300, { dpi: 300, known: false }, 300, 35e6)).toEqual({ dpi: 300, scale: 1 });
  });

  it('does not believe software defaults or impossible paper sizes', () => {
    // 72 dpi is what many files say whatever they hold; 4000 px at 150 dpi would be 27 inches
    expect(pageScale(4000, 2864, { dpi: 72, known: false }, 300, 35e6)).toEqual({ dpi: null, scale: 1 });
    expect(pageScale(4000, 2864, { dpi: 150, known: false }, 300, 35e6)).toEqual({ dpi: null, scale: 1 });
    // a density we rendered at ourselves is known, whatever the page size
    expect(pageScale(6300, 6300, { dpi: 210, known: true }, 300, 50e6).dpi).toBeGreaterThanOrEqual(210);
  });

  it('enlarges a small image of unknown resolution, and never passes the pixel ceiling', () => {
    expect(pageScale(400, 50, null, 300, 35e6)).toEqual({ dpi: null, scale: 3 });
    expect(pageScale(1000, 800, null, 300, 35e6)).toEqual({ dpi: null, scale: 2 });
    const { scale } = pageScale(3000, 3000, { dpi: 100, known: true }, 300, 35e6);
    expect(3000 * scale * 3000 * scale).toBeLessThanOrEqual(35e6);
  });
});

describe('scoreTextLayer', () => {
  const score = (text: string, more: { invisibleShare?: number; offPageShare?: number } = {}, languages = ['eng']) =>
    scoreTextLayer({ text, invisibleShare: 0, offPageShare: 0, ...more }, languages);

  it("trusts typeset words and numbers in the page's script", () => {
    expect(score('The treasurer presented the annual accounts: 1,234.50 EUR due 31/03/2025 (see note 4).')).toEqual({ score: 1, reasons: [] });
    expect(score('Portez ce vieux whisky au juge blond qui fume', {}, ['fra']).score).toBe(1);
    expect(score('Съешь же ещё этих мягких французских булок', {}, ['rus']).score).toBe(1);
  });

  it('does not trust glyph soup, mojibake, broken characters, or text off the page', () => {
    // multipage.pdf's page 4 carries this invisible layer over a chart
    const soup = score('sw | \\ + 400 + 300 —esupport BH No vote{note 1] 200 4 t= Oppose SeNet{note 2] Percentage [note 3]', { invisibleShare: 1 });
    expect(soup.score).toBeLessThan(USABLE_TEXT_SCORE);
    expect(soup.reasons).toEqual(['38% of its tokens are not words', '100% of it is invisible (an earlier OCR)']);
    // "Hello world of text" byte-swapped into UTF-16 reads as CJK
    expect(score('\u4865\u6c6c\u6f20\u776f\u726c\u6420\u6f66\u2074\u6578\u7420').score).toBe(0);
    expect(score('The treasurer presented the annual \uE001\uE002\uE003 accounts \uFFFD\uFFFD').score).toBeLessThan(USABLE_TEXT_SCORE);
    expect(score('The treasurer presented the annual accounts.', { offPageShare: 1 }).score).toBe(0);
    expect(score('§§ ¶¶ ## @@ ** ++ ~~ ^^').score).toBe(0);
    expect(score('1 2').score).toBe(0);
  });

  it('keeps a clean invisible layer (an earlier OCR that reads well), a little less sure of it', () => {
    const earlier = score('The treasurer presented the annual accounts of the harbour.', { invisibleShare: 1 });
    expect(earlier.score).toBeGreaterThanOrEqual(USABLE_TEXT_SCORE);
    expect(earlier.score).toBeLessThan(1);
  });
});

describe('finishPage', () => {
  it('hands OCR an 8-bit grey PGM (binarised: black and white only, as sharp thresholds), which toPgm passes on as it is', async () => {
    const png = await renderTextPng(['Raw grey between steps'], { width: 500 });
    const grey = await greyscalePage({ kind: 'image', bytes: png, page: 0, maxPixels: 1e8 });
    const { pgm, width, height } = await finishPage(grey, { turn: 90, straighten: 0, scale: 0.5, binarize: false });
    expect([width, height]).toEqual([Math.round(grey.height * 0.5), 250]);
    const page = readPgm(pgm)!;
    expect([page.width, page.height, page.data.length]).toEqual([width, height, width * height]);
    expect(await toPgm(pgm)).toBe(pgm);
    expect(readPgm(await toPgm(png))).toMatchObject({ width: grey.width, height: grey.height });

    const binary = readPgm((await finishPage(grey, { turn: 0, straighten: 0, scale: 1, binarize: true })).pgm)!;
    expect(new Set(binary.data)).toEqual(new Set([0, 255]));
    expect(readPgm(Buffer.from('P5\n4 4\n255\n1234'))).toBeNull(); // cut short
  });
});
