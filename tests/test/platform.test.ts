import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import {
  TEST_REDIS_URL,
  corpusAvailable,
  corpusExpected,
  corpusFile,
  deletePrefix,
  freePort,
  orchestratorReady,
  makePdf,
  missingWords,
  pngHeaderOnly,
  renderTextPng,
  testPrefix,
  waitFor,
} from '@docproc/testkit';
import { startPlatform, type Platform, type PlatformApp } from '@docproc/supervisor';

interface DocumentResult {
  documentId: string;
  name: string;
  status: string;
  error: { code: string; message: string } | null;
  steps: {
    preprocess: { mediaType: string } | null;
    ocr: { text: string; confidence: number } | null;
    nlp: { language: string; wordCount: number; entities: unknown[] } | null;
    validate: { status: string; reasons: unknown[] } | null;
  };
}

/**
 * The whole platform as `pnpm start` runs it: the orchestrator and the four
 * workers, each its own node process from dist/, on real Redis.
 */
describe('the platform end to end', () => {
  const prefix = testPrefix('e2e');
  const redis = new Redis(TEST_REDIS_URL);
  const exits: string[] = [];
  const logs: string[] = [];
  let platform: Platform;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    platform = startPlatform({
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL: TEST_REDIS_URL,
        DOCPROC_KEY_PREFIX: prefix,
        DOCPROC_DATA_DIR: mkdtempSync(join(tmpdir(), 'docproc-e2e-')),
        DOCPROC_HEARTBEAT_MS: '500',
        LOG_LEVEL: 'warn',
      },
      // two OCR processes, as `docproc up` runs on a two-core machine: pages spread over both
      instances: { 'worker-ocr': 2 },
      onLine: (app: PlatformApp, line: string) => logs.push(`${app} | ${line}`),
      onExit: (app: PlatformApp, code) => exits.push(`${app} exited with ${code}`),
    });
    await orchestratorReady(base);
  }, 40_000);

  afterAll(async () => {
    await platform.stop();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  async function submit(files: { name: string; bytes: Buffer }[], fields: Record<string, string> = {}): Promise<string> {
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([file.bytes]), file.name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }

  async function resultsWhenDone(id: string, timeoutMs: number) {
    await waitFor(
      async () => {
        const status = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null };
        return status.finishedAt ? status : undefined;
      },
      timeoutMs,
      `job ${id}`,
    );
    return (await (await fetch(`${base}/v1/jobs/${id}/results`)).json()) as {
      status: string;
      successful: number;
      failed: number;
      documents: DocumentResult[];
    };
  }

  it('reads a page it rendered itself, through all four steps', async () => {
    const lines = ['Quarterly report of the harbour authority', 'Contact office@harbour.org before 2025-03-31'];
    const id = await submit([{ name: 'rendered.png', bytes: await renderTextPng(lines) }], { options: JSON.stringify({ minConfidence: 70 }) });
    const results = await resultsWhenDone(id, 60_000);
    expect(results.status).toBe('completed');
    const [doc] = results.documents;
    expect(doc!.error).toBeNull();
    expect(missingWords(doc!.steps.ocr!.text, ['Quarterly', 'report', 'harbour', 'authority', 'office@harbour.org'])).toEqual([]);
    expect(doc!.steps.ocr!.confidence).toBeGreaterThan(70);
    expect(doc!.steps.nlp!.language).toBe('eng');
    expect(doc!.steps.nlp!.entities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'email', text: 'office@harbour.org', value: 'office@harbour.org', page: 0 }),
        expect.objectContaining({ type: 'date', text: '2025-03-31', value: '2025-03-31', page: 0 }),
      ]),
    );
    expect(doc!.steps.validate).toEqual({ status: 'passed', reasons: [], fields: {} });
  }, 90_000);

  it('classifies documents by a stored classifier, and refuses a job naming one that is not stored', async () => {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
    const labels = {
      invoice: ['Invoice number 12. Amount due: 300 USD. Payment within 14 days.', 'Invoice total, VAT, amount due, payment terms and bank account'],
      letter: [
        'Dear Sir, thank you for your kind letter of last week. Yours sincerely',
        'Dear Madam, I write to thank you for the lovely visit. Best wishes',
      ],
    };
    const created = await api('/v1/classifiers', { method: 'POST', body: JSON.stringify({ name: 'kinds', labels }) });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'kinds', algorithm: 'bayes', labels: { invoice: 2, letter: 2 } });
    const bad = await api('/v1/classifiers', { method: 'POST', body: JSON.stringify({ name: 'Bad Name', labels: { only: ['one label'] } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details.map((d) => d.path).sort()).toEqual(['labels', 'name']);
    expect(((await (await api('/v1/classifiers')).json()) as { items: { name: string }[] }).items.map((c) => c.name)).toEqual(['kinds']);

    const form = new FormData();
    form.append('files', new Blob(['Invoice 77. The amount due is 120 EUR, payment within 30 days to our bank account.']), 'bill.txt');
    form.append('options', JSON.stringify({ classify: { classifier: 'missing' } }));
    form.append('pipeline', 'nlp');
    const refused = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/no classifier missing/);

    const id = await submit(
      [
        { name: 'bill.txt', bytes: Buffer.from('Invoice 77. The amount due is 120 EUR, payment within 30 days to our bank account.') },
        { name: 'note.txt', bytes: Buffer.from('Dear Sir, thank you so much for your letter and the kind words. Yours sincerely, Anne') },
      ],
      { pipeline: 'nlp', options: JSON.stringify({ classify: { classifier: 'kinds' } }) },
    );
    const results = await resultsWhenDone(id, 30_000);
    const label = (name: string) =>
      (results.documents.find((d) => d.name === name)!.steps.nlp as unknown as { classification: { label: string; classifier: string } })
        .classification;
    expect(label('bill.txt')).toMatchObject({ label: 'invoice', classifier: 'kinds' });
    expect(label('note.txt')).toMatchObject({ label: 'letter', classifier: 'kinds' });
    expect((await api('/v1/classifiers/kinds', { method: 'DELETE' })).status).toBe(204);
    expect((await api('/v1/classifiers/kinds')).status).toBe(404);
  }, 60_000);

  it('validates by a stored rule set: fields extracted, outcomes with reasons, a malformed rule refused naming it', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const rules = [
      { kind: 'regex', name: 'number', pattern: 'Invoice (?<invoiceNumber>INV-\\d+)' },
      { kind: 'entities', require: { date: 1 }, severity: 'soft' },
      { kind: 'schema', schema: { type: 'object', required: ['invoiceNumber'] } },
    ];
    expect((await post('/v1/rulesets', { name: 'invoices', rules })).status).toBe(201);
    const bad = await post('/v1/rulesets', { name: 'broken', rules: [rules[0], { kind: 'regex', pattern: '(unclosed' }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string; message: string }[] } }).error.details).toEqual([
      { path: 'rules.1.pattern', message: expect.stringMatching(/^rule regex#1: Invalid regular expression/) },
    ]);

    const form = new FormData();
    form.append('files', new Blob(['hello']), 'a.txt');
    form.append('pipeline', 'nlp,validate');
    form.append('options', JSON.stringify({ validate: { rules: [{ kind: 'pages', max: 0 }] } }));
    const refused = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('validate.rules.0.max');

    const id = await submit(
      [
        { name: 'good.txt', bytes: Buffer.from('Invoice INV-2041 issued on 3 March 2025 for consulting services rendered.') },
        { name: 'undated.txt', bytes: Buffer.from('Invoice INV-2042 for consulting services rendered last month, thank you.') },
        { name: 'letter.txt', bytes: Buffer.from('Dear Anne, thank you for your letter of 4 May 2025 and the kind words.') },
      ],
      { pipeline: 'nlp,validate', options: JSON.stringify({ validate: { ruleset: 'invoices' } }) },
    );
    const results = await resultsWhenDone(id, 30_000);
    const verdict = (name: string) =>
      results.documents.find((d) => d.name === name)!.steps.validate as unknown as { status: string; fields: object; reasons: { rule: string }[] };
    expect(verdict('good.txt')).toEqual({ status: 'passed', reasons: [], fields: { invoiceNumber: 'INV-2041' } });
    expect(verdict('undated.txt')).toMatchObject({
      status: 'needs_review',
      fields: { invoiceNumber: 'INV-2042' },
      reasons: [{ rule: 'entities#1' }],
    });
    expect(verdict('letter.txt').status).toBe('failed');
    expect(verdict('letter.txt').reasons.map((r) => r.rule)).toEqual(['number', 'schema#2']);

    // once the job ended: per document, the terms that set it apart from the rest of the job
    const terms = (name: string) =>
      (results.documents.find((d) => d.name === name) as unknown as { batchKeyTerms: { term: string }[] }).batchKeyTerms.map((t) => t.term);
    expect(terms('letter.txt')).toEqual(expect.arrayContaining(['anne', 'letter', 'kind']));
    expect(terms('letter.txt')).not.toContain('invoice'); // in two of the three
    expect(terms('good.txt').slice(0, 2).sort()).toEqual(['issued', 'march']); // its own words first; "consulting" (in undated too) after
    expect(terms('good.txt').indexOf('consulting')).toBeGreaterThan(1);
  }, 60_000);

  it('holds a job that asked for review until people decide, and records who decided what', async () => {
    const api = (path: string, body?: unknown) =>
      fetch(
        `${base}${path}`,
        body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      );
    const rules = [
      { kind: 'regex', pattern: 'Invoice (?<invoiceNumber>INV-\\d+)' },
      { kind: 'regex', name: 'total', pattern: 'Total (?<total>[\\d.]+)', required: false },
      { kind: 'entities', name: 'dated', require: { date: 1 }, severity: 'soft' },
    ];
    const id = await submit(
      [
        { name: 'dated.txt', bytes: Buffer.from('Invoice INV-1 issued on 3 March 2025. Total 10.00 for services rendered.') },
        { name: 'undated-1.txt', bytes: Buffer.from('Invoice INV-2 for services rendered last month. Total 12.50, thank you.') },
        { name: 'undated-2.txt', bytes: Buffer.from('Invoice INV-3 for services rendered last month. Total 99.00, thank you.') },
      ],
      { pipeline: 'nlp,validate', options: JSON.stringify({ validate: { rules }, review: 'required' }) },
    );
    const job = await waitFor(
      async () => {
        const body = (await (await api(`/v1/jobs/${id}`)).json()) as { status: string; reviews: object; finishedAt: string | null };
        return body.status === 'awaiting_review' ? body : undefined;
      },
      30_000,
      'the job to wait for review',
    );
    expect(job).toMatchObject({ reviews: { waiting: 2, approved: 0, rejected: 0 }, finishedAt: null });

    const listed = (await (await api(`/v1/reviews?job=${id}&rule=dated`)).json()) as {
      items: { documentId: string; name: string; reasons: { rule: string }[]; fields: object }[];
    };
    listed.items.sort((a, b) => a.name.localeCompare(b.name)); // oldest first: these two began to wait at about the same time
    expect(listed.items.map((i) => i.name)).toEqual(['undated-1.txt', 'undated-2.txt']);
    expect(listed.items[0]).toMatchObject({ reasons: [{ rule: 'dated', severity: 'soft' }], fields: { invoiceNumber: 'INV-2', total: '12.50' } });
    expect(((await (await api(`/v1/reviews?job=${id}&rule=other`)).json()) as { items: unknown[] }).items).toEqual([]);

    const [first, second] = listed.items;
    const dated = ((await (await api(`/v1/jobs/${id}/results`)).json()) as { documents: DocumentResult[] }).documents; // the job has not ended
    const datedId = dated.find((d) => d.name === 'dated.txt')!.documentId;
    expect((await api(`/v1/jobs/${id}/documents/${datedId}/review`, { decision: 'approve' })).status).toBe(409); // it passed: nothing to review
    expect((await api(`/v1/jobs/${id}/documents/${first!.documentId}/review`, { decision: 'maybe' })).status).toBe(400);
    const approved = await api(`/v1/jobs/${id}/documents/${first!.documentId}/review`, {
      decision: 'approve',
      note: 'dated on the envelope',
      fields: { total: '12.55' },
      reviewer: 'anne',
    });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({
      review: { status: 'approved', reviewer: 'anne', fields: { invoiceNumber: 'INV-2', total: '12.55' } },
      job: { status: 'awaiting_review', reviews: { waiting: 1, approved: 1 } },
    });
    expect((await api(`/v1/jobs/${id}/documents/${first!.documentId}/review`, { decision: 'reject' })).status).toBe(409); // decided already
    const rejected = await api(`/v1/jobs/${id}/documents/${second!.documentId}/review`, {
      decision: 'reject',
      note: 'no date at all',
      reviewer: 'bo',
    });
    expect(((await rejected.json()) as { job: { status: string } }).job.status).toBe('completed');

    const results = await resultsWhenDone(id, 5_000);
    const review = (name: string) =>
      (results.documents.find((d) => d.name === name) as unknown as { review: { status: string; reviewer?: string } | null }).review;
    expect(review('dated.txt')).toBeNull();
    expect(review('undated-1.txt')).toMatchObject({ status: 'approved', reviewer: 'anne' });
    expect(review('undated-2.txt')).toMatchObject({ status: 'rejected', reviewer: 'bo' });
    const events = await (
      await fetch(`${base}/v1/jobs/${id}/events`, { headers: { 'Last-Event-ID': '0-0' }, signal: AbortSignal.timeout(3000) })
    ).text();
    const reviewEvents = [...events.matchAll(/event: review\ndata: (.*)/g)].map((m) => JSON.parse(m[1]!).status);
    expect(reviewEvents).toEqual(['waiting', 'waiting', 'approved', 'rejected']);
    expect(((await (await api(`/v1/reviews?job=${id}`)).json()) as { items: unknown[] }).items).toEqual([]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^docproc_reviews_total\{decision="approved"\} [1-9]/m);
    expect(metrics).toMatch(/^docproc_reviews_total\{decision="rejected"\} [1-9]/m);
    // other tests' jobs may wait too: the gauge counts what GET /v1/reviews lists
    const everyWaiting = ((await (await api('/v1/reviews?limit=500')).json()) as { items: unknown[] }).items.length;
    expect(metrics).toMatch(new RegExp(`^docproc_reviews_waiting ${everyWaiting}$`, 'm'));

    // a job waiting for reviews can be cancelled: nobody is asked to review its documents any more
    const waitingJob = await submit(
      [{ name: 'undated-3.txt', bytes: Buffer.from('Invoice INV-4 for services rendered last month. Total 5.00, thank you.') }],
      {
        pipeline: 'nlp,validate',
        options: JSON.stringify({ validate: { rules }, review: 'required' }),
      },
    );
    await waitFor(
      async () => (((await (await api(`/v1/jobs/${waitingJob}`)).json()) as { status: string }).status === 'awaiting_review' ? true : undefined),
      30_000,
      'review',
    );
    const [pending] = ((await (await api(`/v1/reviews?job=${waitingJob}`)).json()) as { items: { documentId: string }[] }).items;
    expect((await api(`/v1/jobs/${waitingJob}/cancel`, {})).status).toBe(202);
    expect(((await (await api(`/v1/jobs/${waitingJob}`)).json()) as { status: string }).status).toBe('cancelled');
    expect(((await (await api(`/v1/reviews?job=${waitingJob}`)).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await api(`/v1/jobs/${waitingJob}/documents/${pending!.documentId}/review`, { decision: 'approve' })).status).toBe(409);
  }, 60_000);

  (corpusAvailable() ? it : it.skip)(
    'reads the whole corpus: expected words for every readable file, a clear code for each broken one',
    async () => {
      const expected = corpusExpected();
      const names = Object.keys(expected);
      const files: { name: string; bytes: Buffer }[] = names.map((name) => ({ name, bytes: readFileSync(corpusFile(name)) }));
      const whole = readFileSync(corpusFile('typewriter.png'));
      files.push({ name: 'truncated.png', bytes: whole.subarray(0, Math.floor(whole.length / 3)) });
      // hostile files: a password-locked PDF, and a PNG whose header claims 10 gigapixels
      files.push({ name: 'locked.pdf', bytes: makePdf([{ kind: 'text', lines: ['secret'] }], { encrypt: true }) });
      files.push({ name: 'bomb.png', bytes: pngHeaderOnly(100_000, 100_000) });

      const id = await submit(files);
      const results = await resultsWhenDone(id, 600_000);
      const doc = (name: string) => results.documents.find((d) => d.name === basename(name))!;

      expect(results).toMatchObject({ status: 'completed_with_errors', successful: names.length - 1, failed: 4 });
      for (const name of names.filter((n) => expected[n]!.words)) {
        const { status, steps } = doc(name);
        const want = expected[name]!;
        expect({ name, status, missing: missingWords(steps.ocr!.text, want.words!) }).toEqual({ name, status: 'completed', missing: [] });
        if (want.pages) expect({ name, pages: steps.ocr!.text.split('\f').length }).toEqual({ name, pages: want.pages });
        if (want.language) expect({ name, language: steps.nlp!.language }).toEqual({ name, language: want.language });
      }
      for (const name of ['blank.pdf', 'trivial.pdf']) {
        expect({ name, status: doc(name).status, text: doc(name).steps.ocr!.text.trim() }).toEqual({ name, status: 'completed', text: '' });
      }
      expect(doc('invalid.pdf')).toMatchObject({ status: 'failed', error: { code: 'corrupt_document' } });
      expect(doc('truncated.png')).toMatchObject({ status: 'failed', error: { code: 'corrupt_document' } });
      expect(doc('truncated.png').steps).toEqual({ preprocess: null, ocr: null, nlp: null, validate: null });
      expect(doc('locked.pdf')).toMatchObject({ status: 'failed', error: { code: 'encrypted_document' } });
      expect(doc('bomb.png')).toMatchObject({ status: 'failed', error: { code: 'too_large' } });

      // the six pages of multipage.pdf were six OCR jobs
      const ocrJobs = await redis.zrange(`${prefix}:ocr:completed`, 0, -1);
      expect(ocrJobs.filter((jobId) => /\.ocr\.p\d+$/.test(jobId)).length).toBeGreaterThanOrEqual(6 + 3);

      // every worker is still up and beating
      const workers = await redis.hgetall(`${prefix}:workers`);
      expect(
        Object.values(workers)
          .map((w) => JSON.parse(w).step)
          .sort(),
      ).toEqual(['nlp', 'ocr', 'ocr', 'preprocess', 'validate']);
      expect(exits).toEqual([]);
    },
    660_000,
  );
});
