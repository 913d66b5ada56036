import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PlatformUnderTest } from '@docproc/testkit';

const KEY = 'client-key';
const TESTS = resolve(__dirname, '..');
// Inside tests/ (ignored by git), so the program finds openapi-fetch as a user's project would.
const WORK = join(TESTS, 'output', 'generated-client');
const bin = (pkg: string, path: string) => join(TESTS, 'node_modules', pkg, path);

/**
 * A user's program, typed by the client generated from /openapi.json: a job that asks for
 * review is submitted, waited for, read, reviewed and read again. It does not compile if
 * the document describes a route, a field or a body otherwise than the program uses them.
 */
const PROGRAM = `
import createClient from 'openapi-fetch';
import type { paths } from './api';

async function main(): Promise<void> {
  const client = createClient<paths>({ baseUrl: process.env.BASE_URL!, headers: { Authorization: \`Bearer \${process.env.API_KEY}\` } });
  const options = {
    review: 'required' as const,
    validate: {
      rules: [
        { kind: 'regex' as const, pattern: 'Invoice (?<invoice>INV-\\\\d+)' },
        { kind: 'entities' as const, name: 'dated', require: { date: 1 }, severity: 'soft' as const },
      ],
    },
  };
  const submitted = await client.POST('/v1/jobs', {
    body: { files: ['Invoice INV-42 for services rendered.'], pipeline: 'nlp,validate', options },
    bodySerializer: (body) => {
      const form = new FormData();
      for (const text of body.files) form.append('files', new Blob([text as string]), 'invoice.txt');
      form.append('pipeline', body.pipeline!);
      form.append('options', JSON.stringify(body.options));
      return form;
    },
  });
  if (!submitted.data) throw new Error(\`submit: \${JSON.stringify(submitted.error)}\`);
  const id = submitted.data.id;
  const params = { path: { id } };
  let job = (await client.GET('/v1/jobs/{id}', { params })).data!;
  while (job.status !== 'awaiting_review' && !job.finishedAt) {
    await new Promise((r) => setTimeout(r, 200));
    job = (await client.GET('/v1/jobs/{id}', { params })).data!;
  }
  // JSON, or NDJSON with ?format=ndjson: the JSON page here.
  const results = (await client.GET('/v1/jobs/{id}/results', { params })).data!;
  if (!('documents' in results)) throw new Error('results: not a JSON page');
  const waiting = (await client.GET('/v1/reviews', { params: { query: { job: id } } })).data!;
  const documentId = waiting.items[0]!.documentId;
  const reviewed = await client.POST('/v1/jobs/{id}/documents/{documentId}/review', {
    params: { path: { id, documentId } },
    body: { decision: 'approve', fields: { invoice: 'INV-42' } },
  });
  const missing = await client.GET('/v1/jobs/{id}', { params: { path: { id: 'no-such-job' } } });
  console.log(JSON.stringify({
    waited: job.status,
    documents: results.documents.map((d) => d.name),
    fields: waiting.items[0]!.fields,
    reasons: waiting.items[0]!.reasons.map((r) => r.rule),
    reviewed: reviewed.data?.review.status,
    after: reviewed.data?.job.status,
    missing: { status: missing.response.status, code: missing.error?.error.code },
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

describe('a client generated from /openapi.json, as a user would', () => {
  jest.setTimeout(120_000);
  const platform = new PlatformUnderTest({ DOCPROC_API_KEYS: KEY });
  afterAll(async () => platform.stop());

  it('openapi-typescript generates its types; a program using openapi-fetch compiles against them and drives a whole job', async () => {
    await platform.start(['orchestrator', 'worker-nlp', 'worker-validation']);
    await platform.workersUp('validate', 1);
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const document = await (await fetch(`${platform.base}/openapi.json`, { headers: platform.auth() })).text();
    writeFileSync(join(WORK, 'openapi.json'), document);
    // --default-non-nullable false: a request field with a server default stays optional (the tool's default makes it required).
    const generate = [join(WORK, 'openapi.json'), '-o', join(WORK, 'api.ts'), '--default-non-nullable', 'false'];
    execFileSync(process.execPath, [bin('openapi-typescript', 'bin/cli.js'), ...generate], { stdio: 'pipe' });
    writeFileSync(join(WORK, 'drive.ts'), PROGRAM);

    const tsc = spawnSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        ...['--strict', '--target', 'es2022', '--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop', '--skipLibCheck'],
        ...['--types', 'node', '--outDir', join(WORK, 'out'), join(WORK, 'drive.ts'), join(WORK, 'api.ts')],
      ],
      { encoding: 'utf8', cwd: TESTS },
    );
    expect({ compiled: tsc.status, errors: tsc.stdout.split('\n').slice(0, 10) }).toEqual({ compiled: 0, errors: [''] });

    const run = spawnSync(process.execPath, [join(WORK, 'out', 'drive.js')], {
      encoding: 'utf8',
      env: { ...process.env, BASE_URL: platform.base, API_KEY: KEY },
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      waited: 'awaiting_review',
      documents: ['invoice.txt'],
      fields: { invoice: 'INV-42' },
      reasons: ['dated'],
      reviewed: 'approved',
      after: 'completed',
      missing: { status: 404, code: 'not_found' },
    });
  });

  it('redocly lint passes with no errors and no warnings', () => {
    const lint = spawnSync(process.execPath, [bin('@redocly/cli', 'bin/cli.js'), 'lint', join(WORK, 'openapi.json'), '--format', 'summary'], {
      encoding: 'utf8',
      cwd: TESTS,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect({ status: lint.status, output: lint.status === 0 ? '' : lint.stdout + lint.stderr }).toEqual({ status: 0, output: '' });
    expect(lint.stdout + lint.stderr).toMatch(/Your API description is valid/);
    expect(lint.stdout + lint.stderr).not.toMatch(/You have \d+ warnings?/);
  });
});
