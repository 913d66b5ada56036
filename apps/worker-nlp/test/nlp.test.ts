import { UnsupportedTypeError } from '@docproc/catalog';
import { stepContext } from '@docproc/testkit';
import { findEntities } from '../src/entities';
import { detectLanguage, keywords, nlp } from '../src/nlp';

const ocrOf = (text: string) => ({ text, confidence: 90, engine: 'test', languages: ['eng'], pages: [] });

describe('nlp', () => {
  it('counts words, finds the language and the keywords of OCR text', async () => {
    const text =
      'The invoice lists the invoice number, the invoice date and the amount. Payment of the invoice is due in thirty days. ' +
      'Please pay the amount to the account given below.';
    const ctx = await stepContext('nlp', Buffer.from('x'), { pipeline: ['ocr', 'nlp'], previous: { ocr: ocrOf(text) } });
    const result = await nlp(ctx);
    expect(result.language).toBe('eng');
    expect(result.wordCount).toBe(30);
    expect(result.keywords[0]!.term).toBe('invoice');
    expect(result.keywords.map((k) => k.term)).not.toContain('the');
  });

  it('reads a plain-text document when there is no OCR step', async () => {
    const result = await nlp(
      await stepContext('nlp', Buffer.from('Ceci est un texte français assez long pour que la langue soit reconnue sans doute.')),
    );
    expect(result.language).toBe('fra');
    expect(result.tokens).toContain('français');
  });

  it('refuses an image with no OCR before it', async () => {
    await expect(nlp(await stepContext('nlp', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))).rejects.toThrow(UnsupportedTypeError);
  });

  it('says "und" for text too short to tell', () => {
    expect(detectLanguage('ok')).toBe('und');
  });

  it('weighs a term on few pages over one as frequent but on every page', () => {
    const result = keywords(['focused focused focused', 'spread north', 'spread south', 'spread east'], 2, 'eng');
    expect(result.map((k) => k.term)).toEqual(['focused', 'spread']);
    expect(result[0]!.score).toBeGreaterThan(result[1]!.score);
  });
});

describe('findEntities', () => {
  it('finds and normalises e-mails, URLs, dates, money, percentages and phone numbers', () => {
    const text =
      'Write to Billing@Example.com or see https://example.com/pay. Invoice date 12/03/2024, due 2024-04-11 or March 5, 2024. ' +
      'Total € 1.234,50 and $99.99, VAT 21%. Call +31 20 123 4567.';
    const entities = findEntities(text);
    const of = (type: string) => entities.filter((e) => e.type === type).map((e) => e.value);
    expect(of('email')).toEqual(['billing@example.com']);
    expect(of('url')).toEqual(['https://example.com/pay']);
    expect(of('date').sort()).toEqual(['2024-03-05', '2024-03-12', '2024-04-11']);
    expect(of('money')).toEqual(['EUR 1234.50', 'USD 99.99']);
    expect(of('percent')).toEqual(['21%']);
    expect(of('phone')).toEqual(['+31201234567']);
  });

  it('skips impossible dates', () => {
    expect(findEntities('on 31/02/2024').filter((e) => e.type === 'date')).toEqual([]);
  });
});
