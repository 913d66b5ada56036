/** The processing steps, in the only order a pipeline may run them. */
export const STEPS = ['preprocess', 'ocr', 'nlp', 'validate'] as const;
export type StepName = (typeof STEPS)[number];

/**
 * Steps that run one job per page when an earlier step made pages, so that a
 * long document's pages spread over the whole worker pool.
 */
export const PAGED_STEPS: readonly StepName[] = ['ocr'];

/** Each step has its own BullMQ queue, named after the step. */
export function queueName(step: StepName): string {
  return step;
}

export function isStepName(value: string): value is StepName {
  return (STEPS as readonly string[]).includes(value);
}

/**
 * Parses a comma-separated pipeline ("ocr,nlp") into steps in canonical order.
 * Throws a plain Error with a user-facing message on unknown, repeated or
 * out-of-order steps.
 */
export function parsePipeline(text: string): StepName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new Error('pipeline is empty');
  const steps: StepName[] = [];
  for (const name of names) {
    if (!isStepName(name)) throw new Error(`unknown step "${name}" (expected some of ${STEPS.join(', ')})`);
    if (steps.includes(name)) throw new Error(`step "${name}" is repeated`);
    const last = steps[steps.length - 1];
    if (last !== undefined && STEPS.indexOf(name) < STEPS.indexOf(last)) {
      throw new Error(`steps must run in the order ${STEPS.join(',')}`);
    }
    steps.push(name);
  }
  return steps;
}

/** Steps of the pipeline that run before `step`. */
export function stepsBefore(pipeline: readonly StepName[], step: StepName): StepName[] {
  const index = pipeline.indexOf(step);
  return index < 0 ? [] : pipeline.slice(0, index);
}

const IMAGES = ['image/png', 'image/jpeg', 'image/tiff', 'image/webp', 'image/gif', 'image/bmp'];

/**
 * The media types a step can start a pipeline with (null: anything). OCR
 * without preprocessing reads images and text; NLP reads text; validation
 * judges whatever is there.
 */
export const FIRST_STEP_INPUTS: Record<StepName, readonly string[] | null> = {
  preprocess: ['application/pdf', ...IMAGES, 'text/plain'],
  ocr: [...IMAGES, 'text/plain'],
  nlp: ['text/plain'],
  validate: null,
};
