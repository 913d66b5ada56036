import { z } from 'zod';
import { jobOptionsSchema, stepNameSchema } from './models';
import { preprocessPageSchema } from './results';

/** The data of every step job. Bytes never travel in a job: they live in the blob store. */
export const stepPayloadSchema = z.object({
  batchId: z.string().min(1),
  documentId: z.string().min(1),
  step: stepNameSchema,
  pipeline: z.array(stepNameSchema).min(1),
  /** The file name as uploaded: for display only, never trusted for the type. */
  name: z.string(),
  /** Blob key of the original document. */
  blobKey: z.string().min(1),
  options: jobOptionsSchema,
  /**
   * Set on the per-page jobs of a paged step (OCR): which page, of how many, and the page
   * as the step before made it when it handed the page on before it ended.
   */
  page: z.object({ index: z.number().int().min(0), count: z.number().int().min(1), source: preprocessPageSchema.optional() }).optional(),
});
export type StepPayload = z.infer<typeof stepPayloadSchema>;
