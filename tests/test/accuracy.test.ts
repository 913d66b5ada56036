import sharp from 'sharp';
import { PROSE_LINES, characterErrorRate, makePdf, renderTextPng, stepContext } from '@docproc/testkit';
import { loadConfig } from '@docproc/config';
import { OrientationDetector, preprocess, preprocessSettings } from '@docproc/worker-preprocessing';
import { TesseractEngine, combinePages, ocrPage, ocrSettings } from '@docproc/worker-ocr';

/** The platform's defaults, as a fresh install runs. */
const config = loadConfig({});

const PROSE = PROSE_LINES;

interface GeneratedPage {
  name: string;
  font: string;
  fontSize: number;
  noise?: number;
  rotate?: number;
  asPdf?: boolean;
}

/** Fonts of Debian's fonts-dejavu-core, sizes from small print to headings, noise, a 3-8 degree skew, one page upside down. */
const PAGES: GeneratedPage[] = [
  { name: 'sans 28px', font: 'DejaVu Sans', fontSize: 28 },
  { name: 'serif 34px', font: 'DejaVu Serif', fontSize: 34 },
  { name: 'mono 30px', font: 'DejaVu Sans Mono', fontSize: 30 },
  { name: 'sans 40px with noise', font: 'DejaVu Sans', fontSize: 40, noise: 0.02 },
  { name: 'serif 32px skewed 3 degrees', font: 'DejaVu Serif', fontSize: 32, rotate: 3 },
  { name: 'sans 30px skewed -8 degrees with noise', font: 'DejaVu Sans', fontSize: 30, rotate: -8, noise: 0.01 },
  { name: 'serif 32px upside down', font: 'DejaVu Serif', fontSize: 32, rotate: 180 },
  { name: 'sans 32px scanned into a PDF, skewed 5 degrees', font: 'DejaVu Sans', fontSize: 32, rotate: 5, asPdf: true },
];

describe('OCR accuracy on generated pages (character error rate)', () => {
  const engine = new TesseractEngine({ recyclePages: config.ocrRecyclePages, maxMemoryMb: config.ocrMaxMemoryMb });
  const orientation = new OrientationDetector(60_000);
  afterAll(async () => {
    await engine.close();
    await orientation.close();
  });

  const rates: Record<string, number> = {};

  it.each(PAGES)('reads $name with CER at most 2%', async (page) => {
    let document = await renderTextPng(PROSE, {
      font: page.font,
      fontSize: page.fontSize,
      width: page.fontSize * 34,
      noise: page.noise,
      rotate: page.rotate,
    });
    if (page.asPdf) {
      const { data, info } = await sharp(document).greyscale().jpeg({ quality: 90 }).toBuffer({ resolveWithObject: true });
      document = makePdf([{ kind: 'image', jpeg: data, width: info.width, height: info.height, dpi: 300 }]);
    }
    const preCtx = await stepContext('preprocess', document);
    const pre = await preprocess(preCtx, preprocessSettings(config), orientation);
    // as the platform runs it: each page handed on is one OCR page job, then the pages are combined
    expect(preCtx.handedOn).toEqual(pre.pages.map((p) => ({ index: p.index, count: pre.pages.length })));
    const read = [];
    for (const page of pre.pages) {
      const pageCtx = await stepContext('ocr', document, {
        pipeline: ['preprocess', 'ocr'],
        page: { index: page.index, count: pre.pages.length, source: page },
        blobs: preCtx.blobs,
      });
      read.push(await ocrPage(pageCtx, engine, ocrSettings(config)));
    }
    const result = combinePages(read, engine.name, ['eng']);
    const rate = characterErrorRate(result.text, PROSE.join('\n'));
    rates[page.name] = rate;
    if (page.rotate === 180) expect(pre.pages[0]!.rotation).toBe(180);
    else if (page.rotate) expect(Math.abs(pre.pages[0]!.skewAngle + page.rotate)).toBeLessThan(0.5);
    expect(rate).toBeLessThanOrEqual(0.02);
  });

  afterAll(() => {
    // The figures, for docs/benchmarks.md: printed, not asserted beyond the 2% above.
    process.stdout.write(`CER per generated page: ${JSON.stringify(rates)}\n`);
  });
});
