import sharp from 'sharp';
import {
  CorruptDocumentError,
  EncryptedDocumentError,
  StepTimeoutError,
  TooLargeError,
  TooManyPagesError,
  UnsupportedTypeError,
} from '@docproc/catalog';
import { readFileSync } from 'node:fs';
import { readPgm } from '@docproc/media';
import { corpusAvailable, corpusFile, makePdf, pngHeaderOnly, renderTextPng, stepContext } from '@docproc/testkit';
import { OrientationDetector } from '../src/orientation';
import { loadConfig } from '@docproc/config';
import { preprocess, preprocessSettings, type PreprocessSettings } from '../src/preprocess';

const LINES = [
  'Minutes of the meeting held on Tuesday',
  'The treasurer presented the annual accounts',
  'Questions were answered and the accounts approved',
];
const settings = (changes: Partial<PreprocessSettings> = {}): PreprocessSettings => ({ ...preprocessSettings(loadConfig({})), ...changes });

describe('preprocess', () => {
  const orientation = new OrientationDetector(60_000);
  afterAll(() => orientation.close());

  it('stores an upright greyscale PNG page per image page, recording what was done', async () => {
    // as a camera held upside down stores it: pixels upside down, EXIF orientation 3 to show them upright
    const jpeg = await sharp(await renderTextPng(LINES, { width: 1400, rotate: 180 }))
      .jpeg()
      .withMetadata({ orientation: 3 })
      .toBuffer();
    const ctx = await stepContext('preprocess', jpeg);
    const result = await preprocess(ctx, settings(), orientation);
    expect(result.mediaType).toBe('image/jpeg');
    expect(result.pages).toHaveLength(1);
    // turned by 180 for EXIF, and orientation detection then found it upright; JFIF's 72 dpi is
    // not believed, so the small image of unknown resolution is enlarged to a 2,000 px long side
    expect(result.pages[0]).toMatchObject({ index: 0, width: 2000, rotation: 180, skewAngle: 0, dpi: null, text: null });
    // stored as 8-bit grey PGM, what OCR reads as it is
    const stored = readPgm(await ctx.blobs.get(result.pages[0]!.blobKey!));
    expect(stored).toMatchObject({ width: 2000, height: result.pages[0]!.height });
  });

  it('turns an upside-down page and straightens a skewed one', async () => {
    const upsideDown = await preprocess(await stepContext('preprocess', await renderTextPng(LINES, { rotate: 180 })), settings(), orientation);
    expect(upsideDown.pages[0]!.rotation).toBe(180);
    const skewed = await preprocess(await stepContext('preprocess', await renderTextPng(LINES, { rotate: -6 })), settings(), orientation);
    expect(skewed.pages[0]!.skewAngle).toBeCloseTo(6, 0);
    const left = await preprocess(
      await stepContext('preprocess', await renderTextPng(LINES, { rotate: -6 })),
      settings({ deskew: false, rotatePages: false }),
    );
    expect(left.pages[0]).toMatchObject({ skewAngle: 0, rotation: 0 });
  });

  it('takes the text layer of a born-digital PDF page and renders scanned pages', async () => {
    const scan = await sharp(await renderTextPng(LINES, { width: 1500 }))
      .greyscale()
      .jpeg()
      .toBuffer({ resolveWithObject: true });
    const pdf = makePdf([
      { kind: 'text', lines: ['This page was typeset, not scanned.', 'Its words are in its text layer.'] },
      { kind: 'image', jpeg: scan.data, width: scan.info.width, height: scan.info.height, dpi: 200 },
    ]);
    const ctx = await stepContext('preprocess', pdf);
    const result = await preprocess(ctx, settings(), orientation);
    expect(result.mediaType).toBe('application/pdf');
    const [typeset, scanned] = result.pages;
    expect(typeset).toMatchObject({ index: 0, blobKey: null, dpi: 300 });
    expect(typeset!.text).toContain('This page was typeset, not scanned.');
    // the 200 dpi scan is brought to 300 dpi
    expect(scanned).toMatchObject({ index: 1, text: null, dpi: 300 });
    // each page was handed on to OCR as soon as it was done, in order
    expect(ctx.handedOn).toEqual([
      { index: 0, count: 2 },
      { index: 1, count: 2 },
    ]);
    expect(scanned!.width).toBeGreaterThan(scan.info.width * 1.4);
    expect(readPgm(await ctx.blobs.get(scanned!.blobKey!))).toMatchObject({ width: scanned!.width, height: scanned!.height });

    expect(typeset!.textScore).toBe(1);
    // textLayer "ignore", and forceOcr, its old name: every page rendered for OCR, no layer taken
    for (const jobOptions of [{ textLayer: 'ignore' as const }, { forceOcr: true }]) {
      const forced = await preprocess(await stepContext('preprocess', pdf, { jobOptions }), settings(), orientation);
      expect(forced.pages.map((p) => ({ rendered: p.blobKey !== null, text: p.text }))).toEqual([
        { rendered: true, text: null },
        { rendered: true, text: null },
      ]);
    }
  });

  (corpusAvailable() ? it : it.skip)(
    "OCRs multipage.pdf's page 4, whose invisible layer is glyph soup, and takes no layer it cannot trust",
    async () => {
      const ctx = await stepContext('preprocess', readFileSync(corpusFile('multipage.pdf')));
      const result = await preprocess(ctx, settings(), orientation);
      const page = result.pages[3]!;
      expect({ rendered: page.blobKey !== null, text: page.text }).toEqual({ rendered: true, text: null });
      expect(page.textScore).toBeLessThan(0.75);
      expect(result.pages.filter((p) => p.text !== null)).toEqual([]);
    },
    180_000, // the whole document, an 81-megapixel page among its six, on a machine that may be busy
  );

  it('passes plain text through with no pages', async () => {
    const ctx = await stepContext('preprocess', Buffer.from('Just some text.\n'));
    expect(await preprocess(ctx, settings())).toEqual({ mediaType: 'text/plain', pages: [] });
  });

  it('gives each kind of bad input its own error code', async () => {
    await expect(preprocess(await stepContext('preprocess', Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0xff])), settings())).rejects.toThrow(
      UnsupportedTypeError,
    );
    const png = await renderTextPng(['cut short'], { width: 800 });
    await expect(preprocess(await stepContext('preprocess', png.subarray(0, png.length / 2)), settings())).rejects.toThrow(CorruptDocumentError);
    await expect(preprocess(await stepContext('preprocess', Buffer.from('%PDF-1.7\n%%EOF\n')), settings())).rejects.toThrow(CorruptDocumentError);
    await expect(
      preprocess(await stepContext('preprocess', makePdf([{ kind: 'text', lines: ['secret'] }], { encrypt: true })), settings()),
    ).rejects.toThrow(EncryptedDocumentError);
  });

  it('applies every guard as a clear document error', async () => {
    const png = await renderTextPng(['small'], { width: 400 });
    await expect(preprocess(await stepContext('preprocess', png), settings({ maxDocumentBytes: 100 }))).rejects.toThrow(TooLargeError);
    // a header that claims 100,000 x 100,000 pixels is refused before any pixel is decoded
    await expect(preprocess(await stepContext('preprocess', pngHeaderOnly(100_000, 100_000)), settings())).rejects.toThrow(/more than the limit/);
    const threePages = makePdf([1, 2, 3].map((n) => ({ kind: 'text' as const, lines: [`Page number ${n} of three`] })));
    await expect(preprocess(await stepContext('preprocess', threePages), settings({ maxPages: 2 }))).rejects.toThrow(TooManyPagesError);
    const tiff = await sharp([png, png, png], { join: { animated: true } })
      .tiff()
      .toBuffer();
    await expect(preprocess(await stepContext('preprocess', tiff), settings({ maxPages: 2 }))).rejects.toThrow(TooManyPagesError);
    expect((await preprocess(await stepContext('preprocess', tiff), settings({ maxPages: 3, rotatePages: false }))).pages).toHaveLength(3);
    // A whole A4 page at 300 dpi: its decode takes many times the 1 ms limit, however busy the machine.
    const scan = await sharp(await renderTextPng(LINES, { width: 2480 }))
      .resize(2480, 3508, { fit: 'contain', background: '#ffffff' })
      .greyscale()
      .jpeg()
      .toBuffer({ resolveWithObject: true });
    const slow = makePdf([{ kind: 'image', jpeg: scan.data, width: scan.info.width, height: scan.info.height }]);
    await expect(preprocess(await stepContext('preprocess', slow), settings({ pageTimeoutMs: 1 }))).rejects.toThrow(StepTimeoutError);
  });
});
