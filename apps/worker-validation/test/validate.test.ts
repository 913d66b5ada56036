import { nlpResultSchema, rulesSchema, type Entity, type RuleInput, type StoredRuleset } from '@docproc/catalog';
import { preparedPage, stepContext } from '@docproc/testkit';
import { RegexThread } from '../src/regex-thread';
import { validate, type ValidationSettings } from '../src/validate';

const ocrOf = (text: string, confidence: number, pageConfidences: number[] = []) => ({
  text,
  confidence,
  engine: 'test',
  languages: ['eng'],
  pages: pageConfidences.map((c, index) => ({ index, text: 'page text', confidence: c, words: [], source: 'ocr' as const })),
});
const nlpOf = (language: string, entities: Partial<Entity>[] = []) =>
  nlpResultSchema.parse({ language, wordCount: 1, tokens: [], keywords: [], entities: entities.map((e) => ({ text: 'x', value: 'x', ...e })) });
const preprocessOf = (mediaType: string, pages: number) => ({ mediaType, pages: Array.from({ length: pages }, (_, index) => preparedPage(index)) });

const regex = new RegexThread(1000);
afterAll(() => regex.close());
const SETTINGS: ValidationSettings = { minConfidence: 60, regex };

async function run(
  previous: NonNullable<Parameters<typeof stepContext>[2]>['previous'],
  jobOptions = {},
  settings = SETTINGS,
  document = Buffer.from('x'),
) {
  return validate(await stepContext('validate', document, { previous, jobOptions }), settings);
}
const withRules = (rules: RuleInput[]) => ({ validate: { rules: rulesSchema.parse(rules) } });

describe('validate: the built-in rules', () => {
  it('passes confident text', async () => {
    expect(await run({ ocr: ocrOf('hello world', 91), nlp: nlpOf('eng') })).toEqual({ status: 'passed', reasons: [], fields: {} });
  });

  it('fails text below the minimum confidence from options, else from config', async () => {
    const strict = await run({ ocr: ocrOf('hello', 75) }, { minConfidence: 80 });
    expect(strict.status).toBe('failed');
    expect(strict.reasons[0]).toMatchObject({ rule: 'minConfidence', code: 'low_confidence', severity: 'hard' });
    expect((await run({ ocr: ocrOf('hello', 75) })).status).toBe('passed');
    expect((await run({ ocr: ocrOf('hello', 55) })).status).toBe('failed');
  });

  it('asks for review when there is no text or nothing to judge', async () => {
    expect(await run({ ocr: ocrOf('  ', 0) })).toMatchObject({ status: 'needs_review', reasons: [{ code: 'no_text', severity: 'soft' }] });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(await run({}, {}, SETTINGS, png)).toMatchObject({ status: 'needs_review', reasons: [{ code: 'nothing_to_validate' }] });
    expect(await run({ ocr: ocrOf('hello there', 90), nlp: nlpOf('und') })).toMatchObject({ status: 'needs_review' });
  });
});

describe('validate: every rule kind', () => {
  it('mediaType, pages and size', async () => {
    const previous = { preprocess: preprocessOf('image/png', 3), ocr: ocrOf('text', 90) };
    const result = await run(
      previous,
      withRules([
        { kind: 'mediaType', allow: ['application/pdf'] },
        { kind: 'pages', max: 2, severity: 'soft' },
        { kind: 'size', maxBytes: 4 },
      ]),
      SETTINGS,
      Buffer.from('12345'),
    );
    expect(result.status).toBe('failed');
    expect(result.reasons.map((r) => [r.rule, r.code, r.severity])).toEqual([
      ['mediaType#0', 'media_type', 'hard'],
      ['size#2', 'size', 'hard'],
      ['pages#1', 'pages', 'soft'],
    ]);
    expect(
      (
        await run(
          previous,
          withRules([
            { kind: 'mediaType', allow: ['image/png'] },
            { kind: 'pages', min: 1, max: 3 },
          ]),
        )
      ).status,
    ).toBe('passed');
  });

  it('confidence per page names the page', async () => {
    const result = await run(
      { ocr: ocrOf('text', 80, [90, 40]) },
      withRules([{ kind: 'confidence', minMean: 70, minPage: 50, severity: 'soft', name: 'readable' }]),
    );
    expect(result).toMatchObject({ status: 'needs_review', reasons: [{ rule: 'readable', code: 'low_confidence', page: 1 }] });
  });

  it('textLength, language and entities', async () => {
    const nlp = nlpOf('fra', [{ type: 'date' }, { type: 'money' }]);
    const result = await run(
      { ocr: ocrOf('bonjour', 90), nlp },
      withRules([
        { kind: 'textLength', min: 20 },
        { kind: 'language', allow: ['eng', 'deu'] },
        { kind: 'entities', require: { date: 1, money: 2, iban: 1 }, severity: 'soft' },
      ]),
    );
    expect(result.reasons.map((r) => [r.code, r.message])).toEqual([
      ['text_length', '7 characters of text, fewer than 20'],
      ['language', 'the text is in fra, not one of eng, deu'],
      ['entities', '1 money found, 2 required'],
      ['entities', '0 iban found, 1 required'],
    ]);
    expect(
      (
        await run(
          { ocr: ocrOf('bonjour tout le monde, ça va?', 90), nlp },
          withRules([
            { kind: 'language', allow: ['fra'] },
            { kind: 'entities', require: { date: 1 } },
          ]),
        )
      ).status,
    ).toBe('passed');
  });

  it('a rule whose step is missing asks for review, it does not pass', async () => {
    expect(await run({ ocr: ocrOf('hello', 90) }, withRules([{ kind: 'language', allow: ['eng'] }]))).toMatchObject({
      status: 'needs_review',
      reasons: [{ code: 'not_checked', severity: 'soft' }],
    });
  });

  it('regex rules extract named groups as fields, and a schema rule checks them', async () => {
    const text = 'Invoice No. INV-0042\nTotal: 1234.50 EUR\nDue 2025-04-30';
    const rules: RuleInput[] = [
      {
        kind: 'schema',
        schema: {
          type: 'object',
          required: ['invoiceNumber', 'total', 'due'],
          properties: { total: { type: 'string', pattern: '^\\d+\\.\\d{2}$' }, due: { type: 'string', format: 'date' } },
        },
      },
      { kind: 'regex', name: 'number', pattern: 'Invoice No\\. (?<invoiceNumber>[A-Z]+-\\d+)' },
      { kind: 'regex', name: 'total', pattern: 'Total: (?<total>[\\d.]+)' },
      { kind: 'regex', name: 'due', pattern: 'Due (?<due>\\S+)', required: false },
    ];
    const good = await run({ ocr: ocrOf(text, 90) }, withRules(rules));
    expect(good).toEqual({ status: 'passed', reasons: [], fields: { invoiceNumber: 'INV-0042', total: '1234.50', due: '2025-04-30' } });
    const bad = await run({ ocr: ocrOf('Invoice No. INV-7\nTotal: 12.5', 90) }, withRules(rules));
    expect(bad.status).toBe('failed');
    expect(bad.fields).toEqual({ invoiceNumber: 'INV-7', total: '12.5' });
    expect(bad.reasons.map((r) => r.message)).toEqual([
      "fields must have required property 'due'",
      'fields.total must match pattern "^\\d+\\.\\d{2}$"',
    ]);
    const missing = await run({ ocr: ocrOf('nothing here', 90) }, withRules([{ kind: 'regex', pattern: 'Invoice (?<n>\\d+)' }]));
    expect(missing.reasons).toEqual([{ rule: 'regex#0', code: 'regex', message: 'the text does not match Invoice (?<n>\\d+)', severity: 'hard' }]);
  });

  it('a pattern that backtracks without end asks for review, and the next rule still runs', async () => {
    const slow = new RegexThread(200);
    try {
      const started = Date.now();
      const result = await run(
        { ocr: ocrOf(`${'a'.repeat(40)}!`, 90) },
        withRules([
          { kind: 'regex', name: 'evil', pattern: '^(a+)+$' },
          { kind: 'regex', name: 'fine', pattern: '(?<first>a)' },
        ]),
        { ...SETTINGS, regex: slow },
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result).toMatchObject({
        status: 'needs_review',
        fields: { first: 'a' },
        reasons: [{ rule: 'evil', code: 'not_checked', severity: 'soft' }],
      });
      expect(result.reasons[0]!.message).toMatch(/longer than 200 ms/);
    } finally {
      await slow.close();
    }
  });

  it('checks by a stored rule set, the configured one by default, and fails clearly when it is gone', async () => {
    const stored: StoredRuleset = { name: 'strict', createdAt: '', rules: rulesSchema.parse([{ kind: 'textLength', min: 100 }]) };
    const settings: ValidationSettings = {
      minConfidence: 60,
      regex,
      rulesets: { find: async (_tenant, name) => (name === 'strict' ? stored : null) },
    };
    expect((await run({ ocr: ocrOf('short', 90) }, { validate: { ruleset: 'strict' } }, settings)).reasons[0]).toMatchObject({ code: 'text_length' });
    expect((await run({ ocr: ocrOf('short', 90) }, {}, { ...settings, ruleset: 'strict' })).status).toBe('failed');
    await expect(run({ ocr: ocrOf('short', 90) }, { validate: { ruleset: 'gone' } }, settings)).rejects.toMatchObject({ code: 'missing_definition' });
  });
});

describe('rule sets are checked when given', () => {
  it.each([
    [[{ kind: 'regex', pattern: '(unclosed' }], '0.pattern'],
    [
      [
        { kind: 'textLength', min: 1 },
        { kind: 'schema', schema: { type: 'nonsense' } },
      ],
      '1.schema',
    ],
    [[{ kind: 'colour', allow: ['red'] }], '0.kind'],
    [[{ kind: 'pages', max: 0 }], '0.max'],
    [[{ kind: 'regex', pattern: 'x', flags: 'g' }], '0.flags'],
  ])('%j is refused at %s', (rules, path) => {
    const parsed = rulesSchema.safeParse(rules);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
