import {
  DEFAULT_TENANT,
  MissingDefinitionError,
  compileJsonSchema,
  detectMediaType,
  ruleName,
  type OcrResult,
  type NlpResult,
  type Rule,
  type StoredRuleset,
  type ValidateResult,
} from '@docproc/catalog';
import type { StepContext } from '@docproc/runtime';
import { RegexTimeoutError, type RegexThread } from './regex-thread';

type Reason = ValidateResult['reasons'][number];

/** What validation reads from the config. */
export interface ValidationSettings {
  /** The minimum mean OCR confidence of the built-in rule set (DOCPROC_MIN_CONFIDENCE). */
  minConfidence: number;
  /** A stored rule set every job without its own rules is checked by (DOCPROC_RULESET), instead of the built-in one. */
  ruleset?: string;
  /** Where stored rule sets are read from. */
  /** Where named rule sets are read: the job's tenant's own, else the shared one. */
  rulesets?: { find(tenant: string, name: string): Promise<StoredRuleset | null> };
  /** Where regex rules run (a thread with a time limit). */
  regex: Pick<RegexThread, 'exec'>;
}

/** What the rules look at, read once. */
interface Facts {
  ocr: OcrResult | undefined;
  nlp: NlpResult | undefined;
  text: string | null;
  mediaType: string;
  pageCount: number | null;
  size: number;
}

/** The rules a job is checked by: its own, a stored set it names, the configured set, or the built-in minimum confidence. */
async function rulesOf(ctx: StepContext, settings: ValidationSettings): Promise<Rule[]> {
  const option = ctx.payload.options.validate;
  const named = option && 'ruleset' in option ? option.ruleset : option ? undefined : settings.ruleset;
  let rules: Rule[];
  if (option && 'rules' in option) rules = option.rules;
  else if (named) {
    const stored = await settings.rulesets?.find(ctx.payload.tenant ?? DEFAULT_TENANT, named);
    if (!stored) throw new MissingDefinitionError(`rule set ${named} is not stored (deleted after the job was submitted?)`);
    rules = stored.rules;
  } else rules = [{ kind: 'confidence', name: 'minConfidence', minMean: settings.minConfidence, severity: 'hard' }];
  const minConfidence = ctx.payload.options.minConfidence;
  if (minConfidence === undefined) return rules;
  return [
    ...rules.filter((r) => r.name !== 'minConfidence'),
    { kind: 'confidence', name: 'minConfidence', minMean: minConfidence, severity: 'hard' },
  ];
}

async function factsOf(ctx: StepContext): Promise<Facts> {
  const [preprocess, ocr, nlp] = await Promise.all([ctx.resultOf('preprocess'), ctx.resultOf('ocr'), ctx.resultOf('nlp')]);
  const size = await ctx.blobs.size(ctx.payload.blobKey);
  let mediaType = preprocess?.mediaType;
  let text = ocr?.text ?? null;
  if (!mediaType || text === null) {
    const bytes = await ctx.blobs.get(ctx.payload.blobKey);
    mediaType ??= detectMediaType(bytes) ?? 'application/octet-stream';
    if (text === null && mediaType === 'text/plain') text = bytes.toString('utf8');
  }
  return { ocr, nlp, text, mediaType, pageCount: preprocess?.pages.length ?? ocr?.pages.length ?? null, size };
}

/** One rule against the facts: its reasons (none when it holds) and the fields it extracted. */
async function check(
  rule: Rule,
  name: string,
  facts: Facts,
  fields: Record<string, string>,
  regex: ValidationSettings['regex'],
): Promise<Omit<Reason, 'rule' | 'severity'>[]> {
  const needs = (step: string) => [{ code: 'not_checked', message: `rule ${name} needs the ${step} step's result: add ${step} to the pipeline` }];
  switch (rule.kind) {
    case 'mediaType':
      return rule.allow.includes(facts.mediaType)
        ? []
        : [{ code: 'media_type', message: `${facts.mediaType} is not one of ${rule.allow.join(', ')}` }];
    case 'pages': {
      if (facts.pageCount === null) return needs('preprocess');
      if (rule.min !== undefined && facts.pageCount < rule.min)
        return [{ code: 'pages', message: `${facts.pageCount} pages, fewer than ${rule.min}` }];
      if (rule.max !== undefined && facts.pageCount > rule.max)
        return [{ code: 'pages', message: `${facts.pageCount} pages, more than ${rule.max}` }];
      return [];
    }
    case 'size':
      return facts.size > rule.maxBytes ? [{ code: 'size', message: `${facts.size} bytes, more than ${rule.maxBytes}` }] : [];
    case 'confidence': {
      if (!facts.ocr) return [];
      const reasons = [];
      if (rule.minMean !== undefined && facts.ocr.text.trim() !== '' && facts.ocr.confidence < rule.minMean)
        reasons.push({ code: 'low_confidence', message: `mean OCR confidence ${facts.ocr.confidence} is below the minimum of ${rule.minMean}` });
      for (const page of facts.ocr.pages) {
        if (rule.minPage !== undefined && page.text.trim() !== '' && page.confidence < rule.minPage)
          reasons.push({
            code: 'low_confidence',
            message: `page ${page.index + 1}: OCR confidence ${page.confidence} is below ${rule.minPage}`,
            page: page.index,
          });
      }
      return reasons;
    }
    case 'textLength': {
      if (facts.text === null) return needs('ocr');
      const length = facts.text.replace(/\s+/g, ' ').trim().length;
      return length < rule.min ? [{ code: 'text_length', message: `${length} characters of text, fewer than ${rule.min}` }] : [];
    }
    case 'language':
      if (!facts.nlp) return needs('nlp');
      return rule.allow.includes(facts.nlp.language)
        ? []
        : [{ code: 'language', message: `the text is in ${facts.nlp.language}, not one of ${rule.allow.join(', ')}` }];
    case 'entities': {
      if (!facts.nlp) return needs('nlp');
      return Object.entries(rule.require).flatMap(([type, count]) => {
        const found = facts.nlp!.entities.filter((e) => e.type === type).length;
        return found >= count ? [] : [{ code: 'entities', message: `${found} ${type} found, ${count} required` }];
      });
    }
    case 'regex': {
      if (facts.text === null) return needs('ocr');
      let outcome;
      try {
        outcome = await regex.exec(rule.pattern, rule.flags, facts.text);
      } catch (err) {
        if (err instanceof RegexTimeoutError) return [{ code: 'not_checked', message: `rule ${name}: ${err.message}` }];
        throw err;
      }
      for (const [field, value] of Object.entries(outcome.groups)) fields[field] ??= value.trim();
      return outcome.matched || !rule.required ? [] : [{ code: 'regex', message: `the text does not match ${rule.pattern}` }];
    }
    case 'schema': {
      const valid = compileJsonSchema(rule.schema);
      if (valid(fields)) return [];
      return (valid.errors ?? []).map((e) => ({
        code: 'schema',
        message: `fields${e.instancePath.replace(/\//g, '.')} ${e.message ?? 'is not valid'}`,
      }));
    }
  }
}

/**
 * The validation step: the document and the earlier steps' results checked by the job's
 * rules. A hard rule that breaks fails validation (the document itself still completed); a
 * soft one, or what cannot be judged, needs review. Regex rules' named groups are the
 * extracted fields, and a schema rule checks them (so schema rules come after regex ones).
 */
export async function validate(ctx: StepContext, settings: ValidationSettings): Promise<ValidateResult> {
  const [rules, facts] = await Promise.all([rulesOf(ctx, settings), factsOf(ctx)]);
  const fields: Record<string, string> = {};
  const reasons: Reason[] = [];
  const ordered = [...rules.entries()].sort(([, a], [, b]) => Number(a.kind === 'schema') - Number(b.kind === 'schema'));
  for (const [index, rule] of ordered) {
    const name = ruleName(rule, index);
    for (const reason of await check(rule, name, facts, fields, settings.regex))
      reasons.push({ rule: name, severity: reason.code === 'not_checked' ? 'soft' : rule.severity, ...reason });
  }
  if (facts.ocr && facts.ocr.text.trim() === '')
    reasons.push({ rule: 'text', code: 'no_text', message: 'no text was found in the document', severity: 'soft' });
  if (facts.nlp && facts.text?.trim() && facts.nlp.language === 'und')
    reasons.push({ rule: 'language', code: 'unknown_language', message: 'the language of the text could not be told', severity: 'soft' });
  if (!facts.ocr && !facts.nlp && facts.text === null)
    reasons.push({ rule: 'text', code: 'nothing_to_validate', message: 'no text to validate: add ocr to the pipeline', severity: 'soft' });

  const status = reasons.some((r) => r.severity === 'hard') ? 'failed' : reasons.length > 0 ? 'needs_review' : 'passed';
  return { status, reasons: reasons.sort((a, b) => Number(a.severity === 'soft') - Number(b.severity === 'soft')), fields };
}
