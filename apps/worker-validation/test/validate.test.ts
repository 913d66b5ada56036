import { stepContext } from '@docproc/testkit';
import { validate } from '../src/validate';

const ocrOf = (text: string, confidence: number) => ({ text, confidence, engine: 'test', languages: ['eng'], pages: [] });
const nlpOf = (language: string) => ({ language, wordCount: 1, tokens: [], keywords: [], entities: [] });

async function run(previous: Parameters<typeof stepContext>[2]['previous'], minConfidence?: number) {
  const ctx = await stepContext('validate', Buffer.from('x'), { previous, jobOptions: minConfidence === undefined ? {} : { minConfidence } });
  return validate(ctx, 60);
}

describe('validate', () => {
  it('passes confident text', async () => {
    expect(await run({ ocr: ocrOf('hello world', 91), nlp: nlpOf('eng') })).toEqual({ status: 'passed', reasons: [] });
  });

  it('fails text below the minimum confidence from options, else from config', async () => {
    const strict = await run({ ocr: ocrOf('hello', 75) }, 80);
    expect(strict.status).toBe('failed');
    expect(strict.reasons[0]).toMatchObject({ code: 'low_confidence' });
    expect((await run({ ocr: ocrOf('hello', 75) })).status).toBe('passed');
    expect((await run({ ocr: ocrOf('hello', 55) })).status).toBe('failed');
  });

  it('asks for review when there is no text or nothing to judge', async () => {
    expect(await run({ ocr: ocrOf('  ', 0) })).toMatchObject({ status: 'needs_review', reasons: [{ code: 'no_text' }] });
    expect(await run({})).toMatchObject({ status: 'needs_review', reasons: [{ code: 'nothing_to_validate' }] });
    expect(await run({ ocr: ocrOf('hello there', 90), nlp: nlpOf('und') })).toMatchObject({ status: 'needs_review' });
  });
});
