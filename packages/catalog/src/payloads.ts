import { z } from 'zod';
import { jobOptionsSchema, stepNameSchema } from './models';
import { preprocessPageSchema } from './results';

/** The data of every step task. Bytes never travel in a task: they live in the blob store. */
export const stepPayloadSchema = z.object({
  batchId: z.string().min(1),
  /** The batch's tenant: whose stored definitions (classifiers, rule sets) the job names (none: the default tenant). */
  tenant: z.string().min(1).optional(),
  documentId: z.string().min(1),
  step: stepNameSchema,
  pipeline: z.array(stepNameSchema).min(1),
  /** The file name as uploaded: for display only, never trusted for the type. */
  name: z.string(),
  /** Blob key of the original document. */
  blobKey: z.string().min(1),
  options: jobOptionsSchema,
  /**
   * Set on the page tasks of a paged step (OCR): which page, of how many, and the page as
   * the step before made it (that step hands each page on the moment it is stored).
   */
  page: z.object({ index: z.number().int().min(0), count: z.number().int().min(1), source: preprocessPageSchema }).optional(),
  /**
   * Set on the task that puts a paged step's pages together when the step before ended
   * after the last page was read (else the last page's task does it).
   */
  combine: z.object({ count: z.number().int().min(1) }).optional(),
});
export type StepPayload = z.infer<typeof stepPayloadSchema>;
