import { CorruptDocumentError, UnsupportedTypeError } from '@docproc/catalog';
import { missingWords, renderTextPng, stepContext } from '@docproc/testkit';
import { meanConfidence, ocr } from '../src/ocr';
import { TesseractEngine } from '../src/tesseract-engine';
import { languageDataDir } from '../src/tessdata';

describe('ocr with tesseract.js (offline language data)', () => {
  const engine = new TesseractEngine();
  afterAll(() => engine.close());

  it('reads rendered text, with confidence and word boxes', async () => {
    const lines = ['Invoice number 4711 from Example Industries', 'Total amount due within thirty days'];
    const ctx = await stepContext('ocr', await renderTextPng(lines));
    const result = await ocr(ctx, engine, ['eng']);
    expect(missingWords(result.text, lines.join(' ').split(' '))).toEqual([]);
    expect(result.confidence).toBeGreaterThan(80);
    expect(result.engine).toBe('tesseract.js');
    const words = result.pages[0]!.words;
    expect(words.map((w) => w.text)).toContain('Invoice');
    const invoice = words.find((w) => w.text === 'Invoice')!;
    expect(invoice.bbox.x1).toBeGreaterThan(invoice.bbox.x0);
    expect(invoice.confidence).toBeGreaterThan(50);
  });

  it('reads the pages preprocessing stored, joined by form feeds', async () => {
    const keys = ['p0', 'p1'];
    const previous = { preprocess: { mediaType: 'image/tiff', pages: keys.map((blobKey, index) => ({ index, blobKey, width: 1, height: 1, rotation: 0 })) } };
    const ctx = await stepContext('ocr', Buffer.from('unused'), { pipeline: ['preprocess', 'ocr'], previous });
    await ctx.blobs.put(keys[0]!, await renderTextPng(['First page here']));
    await ctx.blobs.put(keys[1]!, await renderTextPng(['Second page there']));
    const result = await ocr(ctx, engine, ['eng']);
    const pages = result.text.split('\f');
    expect(pages).toHaveLength(2);
    expect(missingWords(pages[0]!, ['First', 'page'])).toEqual([]);
    expect(missingWords(pages[1]!, ['Second', 'there'])).toEqual([]);
  });

  it('never hands undecodable bytes to tesseract', async () => {
    const png = await renderTextPng(['x'], { width: 800 });
    await expect(ocr(await stepContext('ocr', png.subarray(0, 200)), engine, ['eng'])).rejects.toThrow(CorruptDocumentError);
    await expect(ocr(await stepContext('ocr', Buffer.from([0, 1, 2, 3, 0xff])), engine, ['eng'])).rejects.toThrow(UnsupportedTypeError);
  });

  it('refuses a language whose data is not installed', async () => {
    expect(languageDataDir('eng')).not.toBeNull();
    expect(languageDataDir('xyz')).toBeNull();
    const ctx = await stepContext('ocr', await renderTextPng(['hello']), { jobOptions: { languages: ['xyz'] } });
    await expect(ocr(ctx, engine, ['eng'])).rejects.toThrow('OCR language "xyz" is not installed');
  });

  it('averages confidence over words, not pages', () => {
    const word = (confidence: number) => ({ text: 'w', confidence, bbox: { x0: 0, y0: 0, x1: 1, y1: 1 } });
    expect(meanConfidence([{ index: 0, text: '', confidence: 0, words: [word(90), word(90), word(60)] }, { index: 1, text: '', confidence: 0, words: [] }])).toBe(80);
    expect(meanConfidence([])).toBe(0);
  });
});
