import { CorruptDocumentError, EncryptedDocumentError, StepTimeoutError, TooLargeError, TooManyPagesError } from '@docproc/catalog';
import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { decodeScan, greyscalePage, readPdf, scannedImages, type GreyImage, type PdfLimits, type PdfReadOptions } from '@docproc/media';
import { corpusFile, faxPdf, hasFaxTools, makePdf, renderTextPng } from '@docproc/testkit';

const options: PdfReadOptions = { dpi: 300, textLayer: 'auto', languages: ['eng'] };
const limits: PdfLimits = { maxPages: 10, maxPagePixels: 35e6, maxImagePixels: 150e6, pageTimeoutMs: 30_000 };

async function pagesOf(pdf: Buffer, read: PdfReadOptions = options, guard: PdfLimits = limits) {
  const pages = [];
  for await (const page of readPdf(pdf, read, guard)) pages.push(page);
  return pages;
}

describe('readPdf (pdf.js on a worker thread)', () => {
  it('returns the text layer of typeset pages and renders scanned ones', async () => {
    const scan = await sharp(await renderTextPng(['A scanned line'], { width: 1200 }))
      .greyscale()
      .jpeg()
      .toBuffer({ resolveWithObject: true });
    const pdf = makePdf([
      { kind: 'text', lines: ['Typeset words in a text layer', 'and a second line'] },
      { kind: 'image', jpeg: scan.data, width: scan.info.width, height: scan.info.height, dpi: 150 },
    ]);
    const [typeset, scanned] = await pagesOf(pdf);
    expect(typeset).toMatchObject({
      index: 0,
      count: 2,
      text: 'Typeset words in a text layer\nand a second line',
      dpi: 300,
      width: 2550,
      height: 3300,
    });
    expect(typeset!.rgba).toBeUndefined();
    expect(scanned).toMatchObject({ index: 1, text: null, dpi: 300, width: 2400 });
    expect(scanned!.rgba!.length).toBe(scanned!.width * scanned!.height * 4);
    // white paper, black ink
    expect(scanned!.rgba![0]).toBe(255);

    const forced = await pagesOf(pdf, { ...options, textLayer: 'ignore' });
    expect(forced[0]!.rgba).toBeDefined();
    expect(forced[0]!.text).toBeNull();
  });

  it("takes a trustworthy text layer and renders the page of any other, with the layer's score", async () => {
    const lines = ['The treasurer presented the annual accounts', 'of the harbour authority for the year'];
    const garbage = ['sw | \\ + 400 + 300 esupport BH No vote{note 1] 200', '4 t= Oppose SeNet{note 2] Percentage [note 3]'];
    const pdf = makePdf([
      { kind: 'text', lines },
      { kind: 'text', lines: garbage },
      { kind: 'text', lines, mojibake: true },
      { kind: 'text', lines, invisible: true },
      { kind: 'text', lines: garbage, invisible: true },
      { kind: 'text', lines, offPage: true },
    ]);
    const pages = await pagesOf(pdf);
    expect(pages.map((p) => ({ taken: p.text !== null, rendered: p.rgba !== undefined }))).toEqual([
      { taken: true, rendered: false },
      { taken: false, rendered: true },
      { taken: false, rendered: true },
      { taken: true, rendered: false },
      { taken: false, rendered: true },
      { taken: false, rendered: true },
    ]);
    expect(pages[0]!.textScore).toBe(1);
    expect(pages[3]!.textScore).toBeLessThan(1);
    expect(pages[2]!.textScore).toBe(0);
    // `use` takes every layer as it is; `ignore` reads none
    // (pdf.js itself leaves text placed off the page out of the layer)
    const used = await pagesOf(pdf, { ...options, textLayer: 'use' });
    expect(used.map((p) => p.text !== null)).toEqual([true, true, true, true, true, false]);
    expect(used[2]!.text).toMatch(/^\p{Script=Han}+/u);
    expect((await pagesOf(pdf, { ...options, textLayer: 'ignore' })).every((p) => p.text === null && p.textScore === null)).toBe(true);
  });

  it('fails a page whose image is too large to decode as too large, not as corrupt', async () => {
    // a blank 1-bit scan of 24,000 x 30,000 pixels (720 megapixels) in 89 KB
    const huge = makePdf([
      { kind: 'text', lines: ['A first page that reads fine'] },
      { kind: 'bitmap', width: 24_000, height: 30_000, dpi: 1200 },
    ]);
    await expect(pagesOf(huge)).rejects.toThrow(new TooLargeError('page 2 holds an image of 24000 x 30000 pixels, more than the limit of 150000000'));
    // under the image ceiling but past what the canvas can hold: still too large, never corrupt
    await expect(pagesOf(huge, options, { ...limits, maxImagePixels: 1e9 })).rejects.toThrow(TooLargeError);
  });

  it('renders at a lower resolution rather than past the pixel ceiling', async () => {
    const [page] = await pagesOf(
      makePdf([{ kind: 'text', lines: ['x'] }]),
      { ...options, textLayer: 'ignore' },
      { ...limits, maxPagePixels: 2_000_000 },
    );
    expect(page!.width * page!.height).toBeLessThanOrEqual(2_000_000);
    expect(page!.dpi).toBeLessThan(300);
  });

  it('fails encrypted, broken, too long and too slow documents with their own errors', async () => {
    await expect(pagesOf(makePdf([{ kind: 'text', lines: ['secret'] }], { encrypt: true }))).rejects.toThrow(EncryptedDocumentError);
    await expect(pagesOf(Buffer.from('%PDF-1.4\n%%EOF\n'))).rejects.toThrow(CorruptDocumentError);
    const whole = makePdf([{ kind: 'text', lines: ['cut'] }]);
    await expect(pagesOf(whole.subarray(0, 60))).rejects.toThrow(CorruptDocumentError);
    await expect(
      pagesOf(makePdf([1, 2, 3].map((n) => ({ kind: 'text' as const, lines: [`page ${n}`] }))), options, { ...limits, maxPages: 2 }),
    ).rejects.toThrow(TooManyPagesError);
    await expect(
      pagesOf(makePdf([{ kind: 'text', lines: ['slow'] }]), { ...options, textLayer: 'ignore' }, { ...limits, pageTimeoutMs: 1 }),
    ).rejects.toThrow(StepTimeoutError);
  });

  it('finds the pages that are one upright scanned image, to decode them without pdf.js', async () => {
    const scan = await sharp(await renderTextPng(['A scanned line'], { width: 1200 }))
      .greyscale()
      .toColourspace('b-w')
      .jpeg()
      .toBuffer({ resolveWithObject: true });
    const pdf = makePdf([
      { kind: 'image', jpeg: scan.data, width: scan.info.width, height: scan.info.height, dpi: 150 },
      { kind: 'text', lines: ['typeset'] },
      { kind: 'bitmap', width: 1700, height: 2200, dpi: 200 },
    ]);
    const [image, text, bitmap] = await scannedImages(pdf);
    expect(image).toMatchObject({ kind: 'jpeg', width: scan.info.width, height: scan.info.height });
    expect(image!.kind === 'jpeg' && image!.bytes.equals(scan.data)).toBe(true);
    expect(Math.round(image!.dpi)).toBe(150);
    // a typeset page is not; a 1-bit Flate scan is, as a 1-bit TIFF (white: its bits are 1)
    expect(text).toBeNull();
    expect(bitmap).toMatchObject({ kind: 'tiff', width: 1700, height: 2200, placement: null });
    const blank = await decodeScan(bitmap!, 1e8);
    expect([blank.width, blank.height]).toEqual([1700, 2200]);
    expect(blank.data.every((v) => v === 255)).toBe(true);
    expect(await scannedImages(Buffer.from('%PDF-1.4 broken'))).toEqual([]);
  });

  it('decodes an 8-bit Flate scan, grey or RGB, to the grey sharp makes of the same pixels (within 1 of 255), and refuses one cut short', async () => {
    const { data, info } = await sharp(await renderTextPng(['Deflated scan 42'], { width: 700 }))
      .tint({ r: 230, g: 200, b: 120 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rgb = { kind: 'pixels' as const, pixels: data, channels: 3 as const, width: info.width, height: info.height };
    const expected = await greyscalePage({ kind: 'raw', pixels: data, width: info.width, height: info.height, channels: 3 });
    const [scanRgb, scanGrey] = await scannedImages(makePdf([rgb, { ...rgb, pixels: expected.data, channels: 1 }]));
    expect(scanRgb).toMatchObject({ kind: 'flate', channels: 3, width: info.width, height: info.height });
    const fromRgb = (await decodeScan(scanRgb!, 1e8)).data;
    expect(Math.max(...fromRgb.map((v, i) => Math.abs(v - expected.data[i]!)))).toBeLessThanOrEqual(1);
    expect((await decodeScan(scanGrey!, 1e8)).data.equals(expected.data)).toBe(true);
    const [short] = await scannedImages(makePdf([{ ...rgb, pixels: data.subarray(0, data.length - 10) }]));
    await expect(decodeScan(short!, 1e8)).rejects.toThrow(CorruptDocumentError);
  });

  (hasFaxTools() ? it : it.skip)('decodes a CCITT Group 4 scan (as scanners write them) as pdf.js renders it, without rendering', async () => {
    const png = await renderTextPng(['Invoice INV-2024-0042', 'Harbour authority figures'], { width: 2480 });
    const info = await sharp(png).metadata();
    const pdf = await faxPdf([png]);
    expect(pdf.toString('latin1')).toContain('/CCITTFaxDecode');

    const [scan] = await scannedImages(pdf);
    expect(scan).toMatchObject({ kind: 'tiff', width: info.width, height: info.height });
    expect(Math.round(scan!.dpi)).toBe(300);
    await expectAsPdfjsPaintsIt(pdf, await decodeScan(scan!, 1e8), 300);
  });

  it('lays a scan that the page turns (as scanners write a skewed page) as pdf.js paints it, without rendering', async () => {
    const scan = await sharp(await renderTextPng(['Turned on the page', 'by its image matrix'], { width: 1275 }))
      .greyscale()
      .jpeg({ quality: 95 })
      .toBuffer({ resolveWithObject: true });
    const pdf = makePdf([{ kind: 'image', jpeg: scan.data, width: scan.info.width, height: scan.info.height, dpi: 150, turn: 3 }]);
    const [found] = await scannedImages(pdf);
    expect(found).toMatchObject({ kind: 'jpeg', placement: { width: scan.info.width, height: scan.info.height } });
    expect(Math.round(found!.dpi)).toBe(150);
    await expectAsPdfjsPaintsIt(pdf, await decodeScan(found!, 1e8), 150, 0.01);
  });

  const corpusSkew = corpusFile('skew.pdf');
  (existsSync(corpusSkew) ? it : it.skip)("decodes the corpus's JBIG2 page, laid askew by its matrix, as pdf.js paints it", async () => {
    const pdf = readFileSync(corpusSkew);
    const [found] = await scannedImages(pdf);
    expect(found).toMatchObject({ kind: 'jbig2', width: 2550, height: 3300, placement: { width: 2550, height: 3300 } });
    await expectAsPdfjsPaintsIt(pdf, await decodeScan(found!, 1e8), 300);
    await expect(decodeScan({ ...found!, kind: 'jbig2', bytes: Buffer.from('not JBIG2'), globals: null, blackIsOne: true }, 1e8)).rejects.toThrow();
  });
});

/** The page as pdf.js renders it at the same resolution: black where pdf.js paints black (anti-aliasing and JPEG decoders' rounding aside). */
async function expectAsPdfjsPaintsIt(pdf: Buffer, fast: GreyImage, dpi: number, tolerance = 0.002): Promise<void> {
  const [rendered] = await pagesOf(pdf, { ...options, dpi, textLayer: 'ignore' });
  const slow = await greyscalePage({ kind: 'raw', pixels: rendered!.rgba!, width: rendered!.width, height: rendered!.height, channels: 4 });
  expect([fast.width, fast.height]).toEqual([slow.width, slow.height]);
  let differ = 0;
  for (let i = 0; i < fast.data.length; i++) if (Math.abs(fast.data[i]! - slow.data[i]!) > 128) differ++;
  expect(differ / fast.data.length).toBeLessThan(tolerance);
  const ink = (g: { data: Buffer }) => g.data.filter((v) => v < 128).length / g.data.length;
  expect(ink(fast)).toBeGreaterThan(0.005);
  expect(Math.abs(ink(fast) - ink(slow))).toBeLessThan(tolerance);
}
