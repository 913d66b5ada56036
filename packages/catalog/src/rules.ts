import { z } from 'zod';
import { compileJsonSchema } from './json-schema';
import { definitionNameSchema } from './names';

/** A hard rule that breaks fails the document's validation; a soft one sends it to review. */
const severity = z.enum(['hard', 'soft']).default('hard');
const base = { name: z.string().min(1).max(100).optional(), severity };

/**
 * The rules a document's validation checks, each `{ kind, …, severity?, name? }` (name:
 * what its reasons say; the kind when not given). Regex patterns and JSON Schemas are
 * compiled when the rule set is given, so a broken one is refused there, not per document.
 */
export const ruleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('mediaType'), allow: z.array(z.string().min(3)).min(1), ...base }),
  z.strictObject({ kind: z.literal('pages'), min: z.number().int().min(0).optional(), max: z.number().int().min(1).optional(), ...base }),
  z.strictObject({ kind: z.literal('size'), maxBytes: z.number().int().min(1), ...base }),
  z.strictObject({
    kind: z.literal('confidence'),
    minMean: z.number().min(0).max(100).optional(),
    minPage: z.number().min(0).max(100).optional(),
    ...base,
  }),
  z.strictObject({ kind: z.literal('textLength'), min: z.number().int().min(1), ...base }),
  z.strictObject({ kind: z.literal('language'), allow: z.array(z.string().regex(/^[a-z]{3}$/, 'ISO 639-3, e.g. "eng"')).min(1), ...base }),
  z.strictObject({ kind: z.literal('entities'), require: z.record(z.string().min(1), z.number().int().min(1)), ...base }),
  z.strictObject({
    kind: z.literal('regex'),
    /** Named groups (`(?<invoiceNumber>…)`) become extracted fields. */
    pattern: z.string().min(1).max(1000),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'only i, m, s and u')
      .optional(),
    /** Whether the text must match (default true); either way a match's named groups are extracted. */
    required: z.boolean().default(true),
    ...base,
  }),
  z.strictObject({ kind: z.literal('schema'), schema: z.record(z.string(), z.unknown()), ...base }),
]);
export type Rule = z.infer<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;

/** Rules whose pattern or JSON Schema cannot be compiled are refused, naming the rule. */
export const rulesSchema = z
  .array(ruleSchema)
  .max(100)
  .superRefine((rules, ctx) =>
    rules.forEach((rule, index) => {
      const problem = compileProblem(rule);
      if (problem)
        ctx.addIssue({
          code: 'custom',
          path: [index, rule.kind === 'regex' ? 'pattern' : 'schema'],
          message: `rule ${ruleName(rule, index)}: ${problem}`,
        });
    }),
  );

function compileProblem(rule: Rule): string | null {
  try {
    if (rule.kind === 'regex') new RegExp(rule.pattern, rule.flags);
    if (rule.kind === 'schema') compileJsonSchema(rule.schema);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** options.validate: rules given in the job, or a stored rule set by name. */
export const validateOptionSchema = z.union([z.strictObject({ rules: rulesSchema }), z.strictObject({ ruleset: definitionNameSchema })]);
export type ValidateOption = z.infer<typeof validateOptionSchema>;

/** POST /v1/rulesets. */
export const rulesetRequestSchema = z.strictObject({ name: definitionNameSchema, description: z.string().max(1000).optional(), rules: rulesSchema });
export type StoredRuleset = z.infer<typeof rulesetRequestSchema> & { createdAt: string };

/** What a rule's reasons call it. */
export const ruleName = (rule: Rule, index: number) => rule.name ?? `${rule.kind}#${index}`;
