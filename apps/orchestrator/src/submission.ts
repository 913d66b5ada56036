import { z } from 'zod';
import { STEPS, isStepName, jobOptionsSchema, parsePipeline, prioritySchema, type JobOptions, type StepName } from '@docproc/catalog';
import { badRequest } from './http-error';

export interface Submission {
  pipeline: StepName[];
  priority: number;
  options: JobOptions;
}

export const issuesOf = (error: z.ZodError) => error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

/** Reads the form fields of POST /v1/jobs; throws a 400 HttpError that says what is wrong. */
export function parseSubmission(fields: Record<string, unknown>): Submission {
  const field = (name: string): string | undefined => {
    const value = fields[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw badRequest(`"${name}" must be given once, as text`);
    return value;
  };

  const pipelineText = field('pipeline');
  const type = field('type');
  let pipeline: StepName[] = [...STEPS];
  if (type !== undefined) {
    if (!isStepName(type)) throw badRequest(`"type" must be one of ${STEPS.join(', ')}`);
    if (pipelineText !== undefined && pipelineText !== type) throw badRequest('give "pipeline" or "type", not both');
    pipeline = [type];
  } else if (pipelineText !== undefined) {
    try {
      pipeline = parsePipeline(pipelineText);
    } catch (err) {
      throw badRequest(`"pipeline": ${(err as Error).message}`);
    }
  }

  const priorityText = field('priority');
  let priority = 0;
  if (priorityText !== undefined) {
    const parsed = prioritySchema.safeParse(priorityText.trim() === '' ? Number.NaN : priorityText);
    if (!parsed.success) throw badRequest('"priority" must be an integer from -10 to 10');
    priority = parsed.data;
  }

  const optionsText = field('options');
  let options: JobOptions = {};
  if (optionsText !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(optionsText);
    } catch {
      throw badRequest('"options" must be a JSON object');
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('"options" must be a JSON object');
    const parsed = jobOptionsSchema.safeParse(raw);
    if (!parsed.success) throw badRequest('"options" has invalid values', issuesOf(parsed.error));
    options = parsed.data;
  }

  return { pipeline, priority, options };
}
