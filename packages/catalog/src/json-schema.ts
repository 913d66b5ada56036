import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Distinct schemas kept compiled; past this the compiler starts afresh (ajv keeps every schema it compiled). */
const MAX_COMPILED = 200;

let ajv = newCompiler();
const compiled = new Map<string, ValidateFunction>();

function newCompiler(): Ajv {
  // Strict about unknown keywords (a typo must not pass), not about style (required names left out of properties).
  const compiler = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  addFormats(compiler);
  return compiler;
}

/**
 * A user's JSON Schema compiled (ajv, draft-07 with formats); throws saying why when it is not
 * a valid schema. Compiled once per distinct schema: a rule set's schema comes to every
 * document of a job as a fresh object, and ajv would compile, and keep, each copy.
 */
export function compileJsonSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    if (compiled.size >= MAX_COMPILED) {
      compiled.clear();
      ajv = newCompiler();
    }
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}
