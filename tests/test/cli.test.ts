import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, renderTextPng, PlatformUnderTest } from '@docproc/testkit';

const CLI = resolve(__dirname, '..', '..', 'apps', 'cli', 'dist', 'main.js');
const KEY = 'cli-key';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `docproc` as a user's shell would: no terminal, its own environment. */
function docproc(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return capture(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Runs `docproc` inside a pseudo-terminal (util-linux `script`), as a person at a terminal does. */
function docprocInTerminal(args: string[], env: Record<string, string>): Promise<Run> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return capture(
    spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env, COLUMNS: '140' }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

function capture(child: ReturnType<typeof spawn>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

/**
 * The `docproc` CLI end to end against a running platform: a folder submitted and
 * followed, results written to files, the job commands, the exit codes a script
 * relies on, and the live progress bar through a pseudo-terminal.
 */
describe('the docproc CLI against a running platform', () => {
  jest.setTimeout(240_000);
  const platform = new PlatformUnderTest({ DOCPROC_API_KEYS: KEY });
  const work = mkdtempSync(join(tmpdir(), 'docproc-cli-'));
  const good = join(work, 'good');
  const mixed = join(work, 'mixed');
  let env: Record<string, string>;

  beforeAll(async () => {
    mkdirSync(join(good, 'sub'), { recursive: true });
    writeFileSync(join(good, 'invoice.png'), await renderTextPng(['Invoice 4711', 'Total 99.50 EUR'], { width: 900 }));
    writeFileSync(join(good, 'sub', 'letter.png'), await renderTextPng(['Dear Margaret', 'Thank you for the parcel'], { width: 900 }));
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'receipt.png'), await renderTextPng(['Receipt 1234', 'Paid in full'], { width: 900 }));
    writeFileSync(join(mixed, 'broken.pdf'), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x41)]));
    await platform.start(['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation']);
    for (const step of ['preprocess', 'ocr', 'nlp', 'validate']) await platform.workersUp(step, 1);
    env = { DOCPROC_URL: platform.base, DOCPROC_API_KEY: KEY };
  });

  afterAll(() => platform.stop());

  it('has --help on every command, with the exit codes', async () => {
    const top = await docproc(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['submit', 'status', 'list', 'results', 'watch', 'cancel', 'retry', 'reviews', 'review', 'up'])
      expect(top.stdout).toContain(command);
    expect(top.stdout).toContain('Exit codes');
    for (const command of ['submit', 'results', 'list']) {
      const help = await docproc([command, '--help']);
      expect({ command, code: help.code }).toEqual({ command, code: 0 });
      expect(help.stdout).toContain(`Usage: docproc ${command}`);
    }
    expect((await docproc(['submit', '--help'])).stdout).toMatch(/--pipeline[\s\S]*--priority[\s\S]*--options[\s\S]*--wait/);
  });

  it('submits a folder, waits, and writes a .txt and a .json per document; exit 0', async () => {
    const run = await docproc(['--json', 'submit', good, '--wait'], env);
    expect({ code: run.code, stderr: run.stderr.slice(0, 500) }).toEqual({ code: 0, stderr: expect.any(String) });
    const ended = JSON.parse(lines(run.stdout).at(-1)!) as { id: string; status: string; progress: { completed: number } };
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: 2 } });
    // --json --wait: the events on stderr, one JSON object a line, ending with 'end'.
    const events = lines(run.stderr).map((line) => JSON.parse(line) as { event: string });
    expect(events.at(-1)!.event).toBe('end');
    expect(events.some((e) => e.event === 'step')).toBe(true);

    const out = join(work, 'out');
    const written = await docproc(['results', ended.id, '--out', out], env);
    expect(written.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['invoice.png.json', 'invoice.png.txt', 'sub_letter.png.json', 'sub_letter.png.txt']);
    expect(readFileSync(join(out, 'invoice.png.txt'), 'utf8')).toMatch(/Invoice 4711/);
    expect(readFileSync(join(out, 'sub_letter.png.txt'), 'utf8')).toMatch(/Margaret/);
    const json = JSON.parse(readFileSync(join(out, 'invoice.png.json'), 'utf8')) as { status: string; steps: Record<string, unknown> };
    expect(json.status).toBe('completed');
    expect(Object.keys(json.steps).sort()).toEqual(['nlp', 'ocr', 'preprocess', 'validate']);

    const status = await docproc(['status', ended.id], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${ended.id}  completed  100%`);
    const list = await docproc(['--json', 'list', '--status', 'completed'], env);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((j) => j.id)).toContain(ended.id);
  });

  it('draws a live progress bar on a terminal, and exits 2 when a document fails', async () => {
    const run = await docprocInTerminal(['submit', mixed, '--wait'], env);
    expect(run.code).toBe(2);
    // The bar redraws in place (carriage return, erase line) with documents, pages, steps, rate and ETA.
    expect(run.stdout).toContain('\r\x1b[K');
    const frames = run.stdout.split('\r\x1b[K');
    expect(frames.at(-1)).toMatch(/\[#+\] 2\/2 documents · 1 failed · pages \d+\/\d+/);
    expect(frames.some((frame) => / in (preprocess|ocr|nlp|validate) \d/.test(frame))).toBe(true);
    expect(frames.some((frame) => / ETA \d/.test(frame))).toBe(true);
    expect(run.stdout).toMatch(/completed_with_errors: 1 completed, 1 failed/);
    const id = /job (\S+) completed_with_errors/.exec(run.stdout)![1]!;

    // The same job read back: results exit 2 (a document failed), and retry sends the failed one round again.
    const listed = await docproc(['results', id], env);
    expect(listed.code).toBe(2);
    expect(listed.stdout).toMatch(/failed\s+broken\.pdf\s+\(corrupt_document/);
    const retried = await docproc(['retry', id, '--wait'], env);
    expect(retried.code).toBe(2);
    expect(retried.stderr).toContain('retrying 1 document(s)');
  });

  it('watch prints a line per event and ends with the job; cancel stops a job', async () => {
    const submitted = await docproc(['submit', good, '--priority', '3'], env);
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    expect(submitted.stderr).toContain(`docproc watch ${id}`);
    const watched = await docproc(['watch', id], env);
    expect(watched.code).toBe(0);
    expect(lines(watched.stdout)[0]).toMatch(/job \S+ (queued|running|completed)/);
    expect(watched.stdout).toMatch(/ocr completed/);
    expect(lines(watched.stdout).at(-1)).toMatch(/job ended: completed/);

    const big = join(work, 'many');
    mkdirSync(big);
    // Sixty pages keep one worker per step busy for many seconds: the cancel (a new CLI process) lands mid-job.
    const page = await renderTextPng(['A page of a long job', 'with a few lines of text', 'to keep the OCR worker busy'], { width: 1400 });
    for (let i = 0; i < 60; i++) writeFileSync(join(big, `page-${i}.png`), page);
    const long = (await docproc(['submit', big], env)).stdout.trim();
    const cancelled = await docproc(['--json', 'cancel', long], env);
    expect({ code: cancelled.code, stderr: cancelled.stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(cancelled.stdout) as { status: string }).status).toMatch(/^(cancelling|cancelled)$/);
    expect((await docproc(['watch', long], env)).code).toBe(2);
  });

  it('a job that asks for review: --wait exits 7, reviews lists what waits, review decides, watch shows the decisions', async () => {
    const texts = join(work, 'texts');
    mkdirSync(texts);
    writeFileSync(join(texts, 'a.txt'), 'Invoice INV-7 for services rendered, no date on it at all.');
    writeFileSync(join(texts, 'b.txt'), 'Invoice INV-8 issued on 3 March 2025 for services rendered.');
    const options = JSON.stringify({
      review: 'required',
      validate: {
        rules: [
          { kind: 'regex', pattern: 'Invoice (?<invoice>INV-\\d+)' },
          { kind: 'entities', name: 'dated', require: { date: 1 }, severity: 'soft' },
        ],
      },
    });
    const submitted = await docproc(['submit', texts, '--pipeline', 'nlp,validate', '--options', options, '--wait', '--json'], env);
    expect(submitted.code).toBe(7);
    const job = JSON.parse(lines(submitted.stdout).at(-1)!) as { id: string; status: string };
    expect(job.status).toBe('awaiting_review');

    const waiting = await docproc(['reviews', '--job', job.id], env);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toMatch(/a\.txt[\s\S]*soft dated: 0 date found, 1 required[\s\S]*fields: invoice=INV-7/);
    const [documentId] = JSON.parse((await docproc(['reviews', '--job', job.id, '--json'], env)).stdout).map(
      (i: { documentId: string }) => i.documentId,
    );

    // the short ids watch prints are taken for the job and the document
    const decided = await docproc(
      [
        'review',
        job.id.slice(0, 8),
        documentId.slice(0, 8),
        'approve',
        '--note',
        'dated by hand',
        '--field',
        'date=2025-03-01',
        '--reviewer',
        'tess',
      ],
      env,
    );
    expect(decided.code).toBe(0);
    expect(decided.stdout).toMatch(new RegExp(`document ${documentId} approved[\\s\\S]*${job.id}  completed`));
    expect((await docproc(['review', job.id, documentId, 'reject'], env)).code).toBe(4); // decided already
    expect((await docproc(['review', job.id, documentId, 'approve', '--field', 'nonsense'], env)).code).toBe(1);
    expect((await docproc(['reviews', '--job', job.id], env)).stdout).toBe('nothing waits for review\n');
    const watched = await docproc(['watch', job.id], env);
    expect(watched.stdout).toMatch(/review waiting[\s\S]*review approved by tess[\s\S]*job ended: completed/);
  });

  it('skips files it cannot read (or refuses them with --strict), keeps stdout for the id under --wait, reads paths from where the user is', async () => {
    const stray = join(work, 'stray');
    mkdirSync(stray);
    writeFileSync(join(stray, 'scan.png'), await renderTextPng(['A scan among other files'], { width: 900 }));
    writeFileSync(join(stray, 'blob.bin'), Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0, 9]));
    writeFileSync(join(stray, 'notes.docx'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64, 0)]));

    const strict = await docproc(['submit', stray, '--strict'], env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/cannot read 2 of the files .*: blob\.bin, notes\.docx/);

    // as `pnpm docproc` runs it: from the repository, with the user's directory in INIT_CWD
    const run = await capture(
      spawn(process.execPath, [CLI, 'submit', 'stray', '--wait'], {
        cwd: resolve(__dirname, '..', '..'),
        env: { ...process.env, ...env, INIT_CWD: work },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('skipped 2 file(s) docproc cannot read (not a PDF, an image or text): blob.bin, notes.docx');
    // ID=$(docproc submit … --wait): stdout is the id alone, the progress went to stderr
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const id = run.stdout.trim();
    expect(run.stderr).toMatch(new RegExp(`job ${id} completed: 1 completed, 0 failed`));
    const status = await docproc(['--json', 'status', id.slice(0, 8)], env);
    expect((JSON.parse(status.stdout) as { id: string; progress: { total: number } }).progress.total).toBe(1);
  });

  it('exits 1 on bad usage, 3 when nothing answers, 4 when the API refuses, 5 without the key', async () => {
    expect((await docproc(['frobnicate'], env)).code).toBe(1);
    expect((await docproc(['submit', '--priority', '3'], env)).code).toBe(1);
    const missing = await docproc(['submit', join(work, 'no-such-file.png')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no-such-file.png');

    const nobody = await docproc(['list'], { ...env, DOCPROC_URL: `http://127.0.0.1:${await freePort()}` });
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toMatch(/cannot reach docproc at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

    const unknown = await docproc(['status', 'no-such-job'], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('404: no job no-such-job');
    const badOptions = await docproc(['submit', good, '--options', '{"languages":["klingon"]}'], env);
    expect(badOptions.code).toBe(4);
    // a typo in --options: a usage error naming the option meant, before anything is uploaded
    const typo = await docproc(['submit', good, '--options', '{"langauges":["eng"]}'], env);
    expect({ code: typo.code, stderr: typo.stderr.trim() }).toEqual({
      code: 1,
      stderr: expect.stringContaining('unknown option "langauges" (did you mean "languages"?)'),
    });
    // a wrong job id makes no folder
    const out = join(work, 'never-made');
    expect((await docproc(['results', 'no-such-job', '--out', out], env)).code).toBe(4);
    expect(existsSync(out)).toBe(false);

    const noKey = await docproc(['list'], { DOCPROC_URL: platform.base, DOCPROC_API_KEY: '' });
    expect(noKey.code).toBe(5);
    const wrongKey = await docproc(['--key', 'wrong', 'list'], { DOCPROC_URL: platform.base });
    expect(wrongKey.code).toBe(5);
    expect(existsSync(CLI)).toBe(true);
  });
});
