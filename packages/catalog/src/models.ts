import { z } from 'zod';
import { webhookOptionSchema } from './webhooks';
import { definitionNameSchema } from './names';
import { validateOptionSchema } from './rules';
import { STEPS } from './steps';

/** `awaiting_review`: every document ran, but the job asked for review (options.review "required") and some wait for it. */
export const BATCH_STATUSES = ['queued', 'running', 'awaiting_review', 'completed', 'completed_with_errors', 'failed', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
export const FINAL_BATCH_STATUSES: readonly BatchStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

export const TASK_STATUSES = ['pending', 'queued', 'running', 'completed', 'failed', 'cancelled', 'timeout'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled', 'timeout'];

/** The message of every document and step stopped by a cancel (the Lua scripts take it from here too). */
export const CANCELLED_MESSAGE = 'the job was cancelled';

export const DOCUMENT_ERROR_CODES = [
  'unsupported_type',
  'corrupt_document',
  'encrypted_document',
  'too_large',
  'too_many_pages',
  'empty_document',
  'timeout',
  'worker_crashed',
  'cancelled',
  /** The job names a stored classifier or rule set that was deleted after it was submitted. */
  'missing_definition',
  'internal',
] as const;
export type DocumentErrorCode = (typeof DOCUMENT_ERROR_CODES)[number];

export const documentErrorSchema = z.object({
  code: z.enum(DOCUMENT_ERROR_CODES),
  message: z.string(),
});
export type DocumentErrorInfo = z.infer<typeof documentErrorSchema>;

/** User-facing priority: -10..10, higher runs first. */
export const PRIORITY_MIN = -10;
export const PRIORITY_MAX = 10;
export const prioritySchema = z.coerce.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX);

/** Loads up to 2^31 documents tell apart (ranks of fair share within one priority). */
const LOAD_RANKS = 32;

/**
 * A task's BullMQ priority (run lowest first, from 1): the user's -10..10 first, then fair
 * share — the batch's tenant's load when it was submitted (its documents accepted and not
 * ended, this batch's included), in powers of two. Of two batches of one priority, the one
 * whose tenant had less work open runs first: a one-page job is not queued behind another
 * tenant's 2,000 pages, and within one tenant jobs keep their order.
 */
export function toQueuePriority(priority: number, tenantLoad = 0): number {
  const rank = Math.min(LOAD_RANKS - 1, Math.ceil(Math.log2(1 + Math.max(0, tenantLoad))));
  return (PRIORITY_MAX - priority) * LOAD_RANKS + rank + 1;
}

/** A time limit per step, in milliseconds: one task of the step (one page job of a paged step) may run this long. */
export const stepTimeoutsSchema = z.strictObject(
  Object.fromEntries(STEPS.map((step) => [step, z.number().int().min(100).max(86_400_000).optional()])) as {
    [S in (typeof STEPS)[number]]: z.ZodOptional<z.ZodNumber>;
  },
);

/** How numeric dates are read: 03/04/2025 is 3 April under DMY, March 4 under MDY. */
export const DATE_ORDERS = ['DMY', 'MDY'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

/** A label and the example texts it is learned from. */
export const labelledExamplesSchema = z
  .record(z.string().min(1).max(100), z.array(z.string().min(1).max(100_000)).min(1).max(1000))
  .refine((labels) => Object.keys(labels).length >= 2, 'at least two labels, each with example texts');

/** `{ classifier: "name" }` (stored by POST /v1/classifiers) or `{ labels: { invoice: ["..."], letter: ["..."] } }`. */
export const classifyOptionSchema = z.union([
  z.strictObject({ classifier: definitionNameSchema }),
  z.strictObject({ labels: labelledExamplesSchema }),
]);
export type ClassifyOption = z.infer<typeof classifyOptionSchema>;

/** What a job can ask for besides text and JSON. */
/** What a job can ask for besides text and JSON: a searchable PDF, the document's structure (layout, tables, Markdown, chunks). */
export const OUTPUTS = ['pdf', 'layout'] as const;

/** Per-job options, passed through to every step. An unknown key is refused (a typo must not pass silently). */
export const jobOptionsSchema = z
  .object({
    /** validate: documents whose mean OCR confidence is below this fail validation. */
    minConfidence: z.number().min(0).max(100).optional(),
    /** ocr: tesseract language codes, e.g. ["eng"]. */
    languages: z
      .array(z.string().regex(/^[a-z_]{3,8}$/))
      .min(1)
      .optional(),
    /** nlp: how many keywords to return. */
    keywords: z.number().int().min(0).max(100).optional(),
    /** nlp: how many sentences the extractive summary has (over DOCPROC_SUMMARY_SENTENCES). */
    summarySentences: z.number().int().min(0).max(50).optional(),
    /** nlp: how to read numeric dates such as 03/04/2025 (over DOCPROC_DATE_ORDER). */
    dateOrder: z.enum(DATE_ORDERS).optional(),
    /** nlp: the region phone numbers without a country code belong to, ISO 3166 alpha-2 (over DOCPROC_PHONE_REGION). */
    phoneRegion: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code such as "US" or "FR"')
      .optional(),
    /** nlp: put each document under a label, by a stored classifier or by labels with example texts. */
    classify: classifyOptionSchema.optional(),
    /**
     * preprocess: a PDF page's own text layer — `auto` (default) takes it when it scores as
     * trustworthy and OCRs the page otherwise, `use` takes any layer, `ignore` OCRs every page.
     */
    textLayer: z.enum(['auto', 'use', 'ignore']).optional(),
    /** preprocess: `true` is `textLayer: "ignore"` (kept from the first v1). */
    forceOcr: z.boolean().optional(),
    /** preprocess: straighten skewed pages (default on). */
    deskew: z.boolean().optional(),
    /** preprocess: turn pages that lie on their side or upside down (default on). */
    rotatePages: z.boolean().optional(),
    /** preprocess: black-and-white pages (default off). */
    binarize: z.boolean().optional(),
    /** preprocess: resolution pages are brought to. */
    dpi: z.number().int().min(72).max(600).optional(),
    /** ocr: Tesseract page segmentation mode (default 3, automatic). */
    psm: z.number().int().min(0).max(13).optional(),
    /** ocr: Tesseract engine mode: 1 LSTM (default); 0, 2 and 3 need legacy data. */
    oem: z.number().int().min(0).max(3).optional(),
    /** ocr: keep each page's hOCR in the blob store and return its key. */
    hocr: z.boolean().optional(),
    /** ocr: more to make than text and JSON — `pdf`: a searchable PDF; `layout`: blocks in reading order, tables, Markdown and chunks (over DOCPROC_OUTPUT). */
    output: z.array(z.enum(OUTPUTS)).optional(),
    /** validate: the rules to check — `{ rules: [...] }` or `{ ruleset: "name" }` (over DOCPROC_RULESET and the minimum confidence). */
    validate: validateOptionSchema.optional(),
    /** validate: `required` keeps the job from ending while documents wait for review (default `optional`). */
    review: z.enum(['optional', 'required']).optional(),
    /** every step: time limits per step (ms), over DOCPROC_STEP_TIMEOUT_MS. */
    timeouts: stepTimeoutsSchema.optional(),
    /** the job's events POSTed, signed, to this URL (over the tenant's default webhook). */
    webhook: webhookOptionSchema.optional(),
  })
  .strict();
export type JobOptions = z.infer<typeof jobOptionsSchema>;

export const stepNameSchema = z.enum(STEPS);
