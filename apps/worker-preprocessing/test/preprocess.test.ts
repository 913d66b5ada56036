import sharp from 'sharp';
import { CorruptDocumentError, UnsupportedTypeError } from '@docproc/catalog';
import { renderTextPng, stepContext } from '@docproc/testkit';
import { preprocess } from '../src/preprocess';

describe('preprocess', () => {
  it('stores an upright greyscale PNG page per image page', async () => {
    const jpeg = await sharp(await renderTextPng(['A page of text'], { width: 600 })).jpeg().withMetadata({ orientation: 3 }).toBuffer();
    const ctx = await stepContext('preprocess', jpeg);
    const result = await preprocess(ctx);
    expect(result.mediaType).toBe('image/jpeg');
    expect(result.pages).toHaveLength(1);
    expect(result.pages[0]).toMatchObject({ index: 0, width: 600, rotation: 180 });
    const stored = await sharp(await ctx.blobs.get(result.pages[0]!.blobKey)).metadata();
    expect(stored).toMatchObject({ format: 'png', channels: 1, width: 600 });
  });

  it('passes plain text through with no pages', async () => {
    const ctx = await stepContext('preprocess', Buffer.from('Just some text.\n'));
    expect(await preprocess(ctx)).toEqual({ mediaType: 'text/plain', pages: [] });
  });

  it('fails unknown bytes as unsupported_type and broken images as corrupt_document', async () => {
    await expect(preprocess(await stepContext('preprocess', Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0xff])))).rejects.toThrow(UnsupportedTypeError);
    const png = await renderTextPng(['cut short'], { width: 800 });
    await expect(preprocess(await stepContext('preprocess', png.subarray(0, png.length / 2)))).rejects.toThrow(CorruptDocumentError);
  });
});
