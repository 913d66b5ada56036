import { businessDocuments, makePdf, renderTextPng, type BusinessDocument, PlatformUnderTest } from '@docproc/testkit';

interface Understood {
  name: string;
  steps: {
    nlp: {
      language: string;
      entities: { type: string; value: string }[];
      classification: { label: string; runnerUp: { label: string } | null } | null;
    };
    validate: { status: string; reasons: { rule: string; code: string }[]; fields: Record<string, string> };
  };
}

/**
 * Generated business documents through the whole platform (OCR included for the page
 * image; the French and German ones as text PDFs, which need no OCR language data beyond
 * English): languages, entities, a stored classifier's labels, a stored rule set's outcomes
 * and extracted fields — what a reviewer reads.
 */
describe('understanding generated invoices, reminders and letters end to end', () => {
  jest.setTimeout(180_000);
  const platform = new PlatformUnderTest();
  const post = (path: string, body: unknown) =>
    fetch(`${platform.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    await platform.start(['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation']);
    for (const step of ['preprocess', 'ocr', 'nlp', 'validate']) await platform.workersUp(step, 1);
  });
  afterAll(() => platform.stop());

  it('returns the language, entities, label, outcome and fields a reviewer would agree with', async () => {
    const training = businessDocuments(4, 100);
    const labels = Object.fromEntries(
      ['invoice', 'reminder', 'letter'].map((kind) => [kind, training.filter((d) => d.kind === kind).map((d) => d.lines.join('\n'))]),
    );
    expect((await post('/v1/classifiers', { name: 'kinds', labels })).status).toBe(201);
    const rules = [
      { kind: 'language', allow: ['eng', 'fra', 'deu'] },
      { kind: 'regex', name: 'reference', pattern: '(?:Invoice|invoice|Facture|facture|Rechnung) (?<reference>INV-\\d{4}-\\d{4})' },
      { kind: 'entities', name: 'dated and priced', require: { date: 1, money: 1 }, severity: 'soft' },
      { kind: 'schema', schema: { type: 'object', required: ['reference'], properties: { reference: { type: 'string', pattern: '^INV-' } } } },
    ];
    expect((await post('/v1/rulesets', { name: 'payables', rules })).status).toBe(201);

    const all = businessDocuments(1, 3);
    const pick = (name: string) => all.find((d) => d.name === name)!;
    const documents: [BusinessDocument, string, Buffer][] = [
      [pick('eng-invoice-001'), 'invoice.png', await renderTextPng(pick('eng-invoice-001').lines, { width: 2800, fontSize: 34 })],
      [pick('fra-reminder-001'), 'relance.pdf', makePdf([{ kind: 'text', lines: pick('fra-reminder-001').lines, fontSize: 9 }])],
      [pick('deu-letter-001'), 'brief.pdf', makePdf([{ kind: 'text', lines: pick('deu-letter-001').lines, fontSize: 9 }])],
    ];
    const id = await platform.submit(
      documents.map(([, name, bytes]) => ({ name, bytes })),
      { options: JSON.stringify({ classify: { classifier: 'kinds' }, validate: { ruleset: 'payables' } }) },
    );
    await platform.finished(id, 150_000);
    const results = (await platform.documents(id)) as unknown as Understood[];

    for (const [doc, name] of documents) {
      const { nlp, validate } = results.find((r) => r.name === name)!.steps;
      expect({ name, language: nlp.language, label: nlp.classification?.label }).toEqual({ name, language: doc.language, label: doc.kind });
      const found = nlp.entities.map((e) => `${e.type} ${e.value}`);
      expect({ name, missing: doc.entities.map((e) => `${e.type} ${e.value}`).filter((e) => !found.includes(e)) }).toEqual({ name, missing: [] });
      if (doc.kind === 'letter') {
        // a letter has no invoice reference: the rule set fails it, naming the rules
        expect(validate.status).toBe('failed');
        expect(validate.reasons.map((r) => r.rule)).toEqual(['reference', 'schema#3', 'dated and priced']);
      } else {
        expect({ name, status: validate.status, reasons: validate.reasons }).toEqual({ name, status: 'passed', reasons: [] });
        expect(validate.fields.reference).toMatch(/^INV-\d{4}-\d{4}$/);
        expect(doc.lines.join('\n')).toContain(validate.fields.reference);
      }
    }
  });
});
