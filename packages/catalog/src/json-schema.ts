import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// Strict about unknown keywords (a typo must not pass), not about style (required names left out of properties).
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
addFormats(ajv);

/** A user's JSON Schema compiled (ajv, draft-07 with formats); throws saying why when it is not a valid schema. */
export function compileJsonSchema(schema: Record<string, unknown>): ValidateFunction {
  return ajv.compile(schema);
}
