import { nlpResultSchema, type StepResults } from '@docproc/catalog';

/** A result for each step that says nothing: for benchmarks of the orchestration, not of the steps. */
export const NO_OP_RESULTS: StepResults = {
  preprocess: { mediaType: 'text/plain', pages: [] },
  ocr: { text: '', confidence: 0, engine: 'none', languages: [], pages: [] },
  nlp: nlpResultSchema.parse({ language: 'und', wordCount: 0, tokens: [], keywords: [], entities: [] }),
  validate: { status: 'passed', reasons: [], fields: {} },
};
