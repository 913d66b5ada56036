import type { ValidateResult } from '@docproc/catalog';
import type { StepContext } from '@docproc/runtime';

type Reason = ValidateResult['reasons'][number];

/**
 * The validation step: rules over the document and the earlier steps'
 * results. A rule's failure fails validation (the document itself still
 * completed); what cannot be judged needs review.
 */
export async function validate(ctx: StepContext, defaultMinConfidence: number): Promise<ValidateResult> {
  const [ocr, nlp] = await Promise.all([ctx.resultOf('ocr'), ctx.resultOf('nlp')]);
  const failed: Reason[] = [];
  const review: Reason[] = [];

  if (ocr) {
    const min = ctx.payload.options.minConfidence ?? defaultMinConfidence;
    if (ocr.text.trim() === '') {
      review.push({ code: 'no_text', message: 'no text was found in the document' });
    } else if (ocr.confidence < min) {
      failed.push({ code: 'low_confidence', message: `mean OCR confidence ${ocr.confidence} is below the minimum of ${min}` });
    }
  }
  if (nlp && ocr && ocr.text.trim() !== '' && nlp.language === 'und') {
    review.push({ code: 'unknown_language', message: 'the language of the text could not be told' });
  }
  if (!ocr && !nlp) {
    review.push({ code: 'nothing_to_validate', message: 'no OCR or NLP result to validate: add ocr to the pipeline' });
  }

  if (failed.length > 0) return { status: 'failed', reasons: [...failed, ...review] };
  if (review.length > 0) return { status: 'needs_review', reasons: review };
  return { status: 'passed', reasons: [] };
}
