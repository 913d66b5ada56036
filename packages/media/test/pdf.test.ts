import sharp from 'sharp';
import { CorruptDocumentError, EncryptedDocumentError, StepTimeoutError, TooManyPagesError } from '@docproc/catalog';
import { readPdf, type PdfLimits, type PdfReadOptions } from '@docproc/media';
import { makePdf, renderTextPng } from '@docproc/testkit';

const options: PdfReadOptions = { dpi: 300, useTextLayer: true, forceOcr: false };
const limits: PdfLimits = { maxPages: 10, maxPagePixels: 35e6, pageTimeoutMs: 30_000 };

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

    const forced = await pagesOf(pdf, { ...options, forceOcr: true });
    expect(forced[0]!.rgba).toBeDefined();
    expect(forced[0]!.text).toContain('Typeset');
  });

  it('renders at a lower resolution rather than past the pixel ceiling', async () => {
    const [page] = await pagesOf(makePdf([{ kind: 'text', lines: ['x'] }]), { ...options, forceOcr: true }, { ...limits, maxPagePixels: 2_000_000 });
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
      pagesOf(makePdf([{ kind: 'text', lines: ['slow'] }]), { ...options, forceOcr: true }, { ...limits, pageTimeoutMs: 1 }),
    ).rejects.toThrow(StepTimeoutError);
  });
});
