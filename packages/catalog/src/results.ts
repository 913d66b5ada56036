import { z } from 'zod';

const bboxSchema = z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() });

/** One page as preprocessing made it. */
export const preprocessPageSchema = z.object({
  index: z.number().int().min(0),
  /** Blob key of the cleaned page image (PNG, greyscale); null for a page read from its text layer. */
  blobKey: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  /** Degrees the page was turned clockwise to stand upright (EXIF orientation, then orientation detection). */
  rotation: z.number(),
  /** Degrees the page was rotated by to straighten its lines (0 when it was straight). */
  skewAngle: z.number().default(0),
  /** Whether scanner specks were filtered out (3x3 median). */
  despeckled: z.boolean().default(false),
  /** Resolution of the page image, when known. */
  dpi: z.number().nullable().default(null),
  /** The PDF text layer of the page, when it was taken (OCR then skips the page). */
  text: z.string().nullable().default(null),
  /** How far the page's text layer could be trusted (0..1), when it has one; taken from 0.75 under `auto`. */
  textScore: z.number().min(0).max(1).nullable().default(null),
  /** Blob key of the page's layout (a LayoutPage), for a text-layer page when the job asked for output "layout". */
  layoutKey: z.string().optional(),
});
export type PreprocessPage = z.infer<typeof preprocessPageSchema>;

export const preprocessResultSchema = z.object({
  mediaType: z.string(),
  pages: z.array(preprocessPageSchema),
});
export type PreprocessResult = z.infer<typeof preprocessResultSchema>;

export const ocrWordSchema = z.object({ text: z.string(), confidence: z.number(), bbox: bboxSchema });

export const ocrResultSchema = z.object({
  /** Pages' text in order, separated by form feeds. */
  text: z.string(),
  /** Mean word confidence over all pages, 0-100 (0 when there are no words). */
  confidence: z.number().min(0).max(100),
  engine: z.string(),
  languages: z.array(z.string()),
  /** Blob key of the searchable PDF, when the job asked for output "pdf". */
  pdfKey: z.string().optional(),
  /** Blob key of the document's layout (a Layout), when the job asked for output "layout". */
  layoutKey: z.string().optional(),
  pages: z.array(
    z.object({
      index: z.number().int().min(0),
      text: z.string(),
      confidence: z.number().min(0).max(100),
      words: z.array(ocrWordSchema),
      /** Where the text came from: OCR, or the PDF's own text layer. */
      source: z.enum(['ocr', 'text-layer']).default('ocr'),
      /** The models OCR read the page with (Tesseract codes): the job's, or those it picked for the page. */
      languages: z.array(z.string()).optional(),
      /** Blob key of the page's hOCR, when asked for with options.hocr. */
      hocrKey: z.string().optional(),
      /** Blob key of the page's layout (a LayoutPage), when the job asked for output "layout". */
      layoutKey: z.string().optional(),
    }),
  ),
});
export type OcrResult = z.infer<typeof ocrResultSchema>;

export const entitySchema = z.object({
  /** date, money, percent, email, url, phone, iban, bic, vat, person, place, organization. */
  type: z.string(),
  /** The characters as they stand in the page's text. */
  text: z.string(),
  /** The normalised value: ISO 8601 date, "EUR 1234.50", E.164 phone number, electronic IBAN... */
  value: z.string(),
  /** Page index (0-based) the entity is on; `start`/`end` are offsets in that page's text. */
  page: z.number().int().min(0).default(0),
  start: z.number().int().min(0).default(0),
  end: z.number().int().min(0).default(0),
  /** How sure the finder is (0..1): a checksum that holds is surer than a pattern. */
  confidence: z.number().min(0).max(1).default(1),
});
export type Entity = z.infer<typeof entitySchema>;

const classificationSchema = z.object({
  /** The label; null when the document is like none of them (too few of its terms are in the examples). */
  label: z.string().nullable(),
  /** Share of the classifier's belief (0..1) that went to this label. */
  confidence: z.number().min(0).max(1),
  /** The next label (with no label: the best guess). */
  runnerUp: z.object({ label: z.string(), confidence: z.number().min(0).max(1) }).nullable(),
  /** Share of the document's telling terms (0..1) that the classifier saw in its examples. */
  known: z.number().min(0).max(1).default(1),
  /** The stored classifier's name, or "job" for labels given in the job's options. */
  classifier: z.string(),
});
export type Classification = z.infer<typeof classificationSchema>;

export const nlpResultSchema = z.object({
  /** ISO 639-3 code, or "und" when the text is too short to tell. */
  language: z.string(),
  wordCount: z.number().int().min(0),
  sentenceCount: z.number().int().min(0).default(0),
  tokens: z.array(z.string()),
  /** The tokens' stems (same order), by natural's stemmer for the language; null where natural has none. */
  stems: z.array(z.string()).nullable().default(null),
  pages: z
    .array(
      z.object({ index: z.number().int().min(0), language: z.string(), wordCount: z.number().int().min(0), sentenceCount: z.number().int().min(0) }),
    )
    .default([]),
  sentences: z.array(z.object({ text: z.string(), page: z.number().int().min(0), start: z.number().int(), end: z.number().int() })).default([]),
  keywords: z.array(z.object({ term: z.string(), score: z.number() })),
  entities: z.array(entitySchema),
  /** The document's most telling sentences, in the order they stand. */
  summary: z.array(z.string()).default([]),
  classification: classificationSchema.nullable().default(null),
});
export type NlpResult = z.infer<typeof nlpResultSchema>;

export const validateReasonSchema = z.object({
  /** The rule's name in its rule set. */
  rule: z.string().default(''),
  /** What went wrong, stable: low_confidence, no_text, media_type, pages, size, text_length, language, entities, regex, schema. */
  code: z.string(),
  message: z.string(),
  /** hard: validation failed; soft: a person should look. */
  severity: z.enum(['hard', 'soft']).default('hard'),
  page: z.number().int().min(0).optional(),
});

export const validateResultSchema = z.object({
  status: z.enum(['passed', 'failed', 'needs_review']),
  reasons: z.array(validateReasonSchema),
  /** Values the rule set's regex rules extracted (named groups), by name. */
  fields: z.record(z.string(), z.string()).default({}),
});
export type ValidateResult = z.infer<typeof validateResultSchema>;

export const stepResultSchemas = {
  preprocess: preprocessResultSchema,
  ocr: ocrResultSchema,
  nlp: nlpResultSchema,
  validate: validateResultSchema,
} as const;

export interface StepResults {
  preprocess: PreprocessResult;
  ocr: OcrResult;
  nlp: NlpResult;
  validate: ValidateResult;
}

/** Whether a step's result holds its document for a person's review (validation said needs_review). */
export function awaitsReview<S extends keyof StepResults>(step: S, result: StepResults[S]): boolean {
  return step === 'validate' && (result as ValidateResult).status === 'needs_review';
}
