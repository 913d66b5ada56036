import { z } from 'zod';
import { labelledExamplesSchema } from './models';
import { definitionNameSchema } from './names';

/** POST /v1/classifiers: a name, natural's algorithm, and labelled example texts. */
export const classifierRequestSchema = z.strictObject({
  name: definitionNameSchema,
  algorithm: z.enum(['bayes', 'logistic']).default('bayes'),
  labels: labelledExamplesSchema,
});
export type ClassifierRequest = z.infer<typeof classifierRequestSchema>;

/** A stored classifier: what it was made from and when (its version: a worker retrains when it changes). */
export type StoredClassifier = ClassifierRequest & { createdAt: string };

/** What the API says of a stored classifier: its examples counted, not repeated. */
export function classifierView(stored: StoredClassifier) {
  return {
    name: stored.name,
    algorithm: stored.algorithm,
    labels: Object.fromEntries(Object.entries(stored.labels).map(([label, texts]) => [label, texts.length])),
    createdAt: stored.createdAt,
  };
}
