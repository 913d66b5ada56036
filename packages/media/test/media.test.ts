import sharp from 'sharp';
import { CorruptDocumentError, TooLargeError, detectMediaType } from '@docproc/catalog';
import { decodeImagePages } from '@docproc/media';
import { renderTextPng } from '@docproc/testkit';

/** Generous limits for the tests' own small images. */
const LIMITS = { maxPixels: 100_000_000, maxPages: 500 };

describe('detectMediaType', () => {
  it('knows types by their bytes, whatever the name', async () => {
    const png = await renderTextPng(['x']);
    expect(detectMediaType(png)).toBe('image/png');
    expect(detectMediaType(await sharp(png).jpeg().toBuffer())).toBe('image/jpeg');
    expect(detectMediaType(await sharp(png).tiff().toBuffer())).toBe('image/tiff');
    expect(detectMediaType(await sharp(png).webp().toBuffer())).toBe('image/webp');
    expect(detectMediaType(await sharp(png).gif().toBuffer())).toBe('image/gif');
    expect(detectMediaType(Buffer.from('%PDF-1.7\n...'))).toBe('application/pdf');
    expect(detectMediaType(Buffer.from('Grüße aus Köln\nline two\n'))).toBe('text/plain');
  });

  it('answers null for what it cannot handle', () => {
    expect(detectMediaType(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]))).toBeNull(); // zip
    expect(detectMediaType(Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe]))).toBeNull();
    expect(detectMediaType(Buffer.alloc(0))).toBeNull();
  });
});

describe('decodeImagePages', () => {
  it('decodes to greyscale PNG pages', async () => {
    const png = await renderTextPng(['hello'], { width: 300 });
    const pages = await decodeImagePages(await sharp(png).jpeg().toBuffer(), { normalise: true }, LIMITS);
    expect(pages).toHaveLength(1);
    const meta = await sharp(pages[0]!.png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.channels).toBe(1);
    expect(pages[0]!.width).toBe(300);
  });

  it('turns a page upright by its EXIF orientation', async () => {
    const png = await renderTextPng(['hello'], { width: 300 });
    const rotated = await sharp(png).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const [page] = await decodeImagePages(rotated, { normalise: false }, LIMITS);
    expect(page!.rotation).toBe(90);
    const original = await sharp(png).metadata();
    expect(page!.width).toBe(original.height); // stored landscape, shown portrait
  });

  it('reads every page of a multi-page TIFF', async () => {
    const pngs = await Promise.all(['one', 'two', 'three'].map((word) => renderTextPng([word], { width: 200 })));
    const tiff = await sharp(pngs, { join: { animated: true } })
      .tiff()
      .toBuffer();
    const pages = await decodeImagePages(tiff, { normalise: false }, LIMITS);
    expect(pages.map((p) => p.index)).toEqual([0, 1, 2]);
  });

  it('fails a truncated image as corrupt', async () => {
    const png = await renderTextPng(['truncated'], { width: 800 });
    await expect(decodeImagePages(png.subarray(0, Math.floor(png.length / 2)), { normalise: true }, LIMITS)).rejects.toThrow(CorruptDocumentError);
    await expect(decodeImagePages(Buffer.from('not an image at all'), { normalise: true }, LIMITS)).rejects.toThrow(CorruptDocumentError);
  });

  it('refuses images over the pixel limit before decoding them', async () => {
    const png = await renderTextPng(['big'], { width: 1000 });
    await expect(decodeImagePages(png, { normalise: true }, { maxPixels: 10_000, maxPages: 10 })).rejects.toThrow(TooLargeError);
  });
});
