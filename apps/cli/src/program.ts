import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '@docproc/config';
import { ApiClient, CliError } from './client';
import { EXIT } from './exit-codes';
import { exitCodeOf, followJob, type JobBody } from './follow';
import { newKey } from './new-key';
import { resolveDocumentId, resolveJobId } from './ids';
import { results } from './results';
import { submit } from './submit';
import { up } from './up';
import { userPath } from './user-paths';

const EXIT_CODES_HELP = `
Exit codes:
  0    done (with --wait/watch: every document completed)
  1    usage: bad arguments or options
  2    the job ended with documents that failed, timed out or were cancelled
  3    no docproc answers at the URL
  4    the API refused the request (bad input, unknown job, conflict, too large, busy)
  5    no API key, or a wrong one
  6    the server failed (5xx)
  7    (with --wait) every document ran; the job waits for review (docproc reviews)
  130  interrupted while waiting (the job goes on)`;

/** The API's address when neither --url nor DOCPROC_URL says: the orchestrator's default host and port. */
function defaultUrl(): string {
  const { host, port } = loadConfig({});
  return `http://${host}:${port}`;
}

interface GlobalOptions {
  url: string;
  key?: string;
  json?: boolean;
}

/**
 * The `docproc` command line. Each action returns its exit code; errors are
 * CliErrors carrying theirs (main.ts prints and exits).
 */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('docproc')
    .description('Document processing: submit scans, PDFs and photos, follow them, read the results; run the platform with `docproc up`.')
    .addOption(new Option('--url <url>', 'the docproc API').env('DOCPROC_URL').default(defaultUrl()))
    .addOption(new Option('--key <key>', 'an API key (see docproc new-key)').env('DOCPROC_API_KEY'))
    .option('--json', 'machine-readable output (JSON; NDJSON for streams)')
    .version((JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version)
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(docproc --help lists the commands)');

  const globals = () => program.opts<GlobalOptions>();
  const client = () => new ApiClient(globals().url.replace(/\/+$/, ''), globals().key);
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      exit(await action(...args));
  const printJob = (job: JobBody) => {
    if (globals().json) return process.stdout.write(`${JSON.stringify(job)}\n`);
    const p = job.progress;
    process.stdout.write(
      `${job.id}  ${job.status}  ${p.percent}%  (${p.completed} completed, ${p.failed} failed, ${p.cancelled} cancelled of ${p.total})\n` +
        `  created ${job.createdAt}${job.startedAt ? `, started ${job.startedAt}` : ''}${job.finishedAt ? `, finished ${job.finishedAt}` : ''}\n`,
    );
  };

  program
    .command('submit')
    .description('submit files, folders (every file under them) or globs as one job')
    .argument('<inputs...>', 'files, folders or globs ("scans/**/*.pdf")')
    .option('--pipeline <steps>', 'steps in order, comma-separated: preprocess,ocr,nlp,validate (default: all)')
    .option('--priority <n>', 'from -10 to 10; higher runs first')
    .option('--options <json>', 'job options as JSON, or @file.json')
    .option('--wait', 'follow the job to its end with a progress bar (on stderr; stdout gets the job id); exit 2 if documents failed')
    .option('--strict', 'refuse to submit when a folder or glob holds files docproc cannot read (default: skip them, and say which)')
    .action(
      run(async (inputs: string[], options: { pipeline?: string; priority?: string; options?: string; wait?: boolean; strict?: boolean }) =>
        submit(client(), inputs, { ...options, json: globals().json ?? false }),
      ),
    );

  program
    .command('status')
    .description("a job's status and progress")
    .argument('<id>', 'job id (or the start of one)')
    .action(
      run(async (id: string) => {
        printJob(await client().json<JobBody>(`/v1/jobs/${encodeURIComponent(await resolveJobId(client(), id))}`));
        return EXIT.ok;
      }),
    );

  program
    .command('list')
    .description('jobs, newest first')
    .option('--status <status>', 'only jobs in this status')
    .option('--limit <n>', 'how many', '20')
    .action(
      run(async (options: { status?: string; limit: string }) => {
        const query = new URLSearchParams({ limit: options.limit, ...(options.status ? { status: options.status } : {}) });
        const { jobs } = await client().json<{ jobs: JobBody[] }>(`/v1/jobs?${query}`);
        if (globals().json) process.stdout.write(`${JSON.stringify(jobs)}\n`);
        else if (jobs.length === 0) process.stdout.write('no jobs\n');
        else
          for (const job of jobs) {
            const p = job.progress;
            process.stdout.write(`${job.id}  ${job.status.padEnd(21)} ${String(p.percent).padStart(3)}%  ${p.total} documents  ${job.createdAt}\n`);
          }
        return EXIT.ok;
      }),
    );

  program
    .command('results')
    .description("a job's documents; --out DIR writes <name>.txt and <name>.json for each (and <stem>.md and <stem>.pdf when asked for)")
    .argument('<id>', 'job id (or the start of one)')
    .option(
      '--out <dir>',
      'write each document as <name>.txt (text) and <name>.json (all of it), and by its name without extension <stem>.md (with output "layout") and <stem>.pdf (searchable, with output "pdf")',
    )
    .option('--include <parts>', 'bulky parts left out by default: words,tokens')
    .action(
      run(async (id: string, options: { out?: string; include?: string }) => {
        // the job is looked up first: a wrong id makes no folder
        const job = await client().json<JobBody>(`/v1/jobs/${encodeURIComponent(await resolveJobId(client(), id))}`);
        const out = options.out === undefined ? undefined : userPath(options.out);
        const failed = await results(client(), job.id, { ...options, out, json: globals().json ?? false });
        return failed > 0 ? EXIT.documentsFailed : EXIT.ok;
      }),
    );

  program
    .command('watch')
    .description("follow a job's events until it ends (a line per event; --json: the events)")
    .argument('<id>', 'job id (or the start of one)')
    .action(
      run(async (id: string) =>
        exitCodeOf(await followJob(client(), await resolveJobId(client(), id), { json: globals().json ?? false, everyEvent: true })),
      ),
    );

  program
    .command('cancel')
    .description('cancel a job: waiting tasks leave the queues, running ones stop')
    .argument('<id>', 'job id (or the start of one)')
    .action(
      run(async (id: string) => {
        printJob(await client().json<JobBody>(`/v1/jobs/${encodeURIComponent(await resolveJobId(client(), id))}/cancel`, { method: 'POST' }));
        return EXIT.ok;
      }),
    );

  program
    .command('retry')
    .description("send a job's failed, timed-out and dead-lettered documents round again")
    .argument('<id>', 'job id (or the start of one)')
    .option('--wait', 'follow the job to its end')
    .action(
      run(async (given: string, options: { wait?: boolean }) => {
        const id = await resolveJobId(client(), given);
        const job = await client().json<JobBody & { retried: number }>(`/v1/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST' });
        if (!globals().json) process.stderr.write(`retrying ${job.retried} document(s)\n`);
        if (!options.wait) {
          printJob(job);
          return EXIT.ok;
        }
        const ended = await followJob(client(), id, { json: globals().json ?? false });
        printJob(ended);
        return exitCodeOf(ended);
      }),
    );

  program
    .command('reviews')
    .description('documents waiting for review, oldest first: why (the rules that sent them) and what was extracted')
    .option('--job <id>', 'only this job')
    .option('--rule <name>', 'only documents this rule sent to review')
    .option('--limit <n>', 'how many', '50')
    .action(
      run(async (options: { job?: string; rule?: string; limit: string }) => {
        const query = new URLSearchParams({
          limit: options.limit,
          ...(options.job ? { job: options.job } : {}),
          ...(options.rule ? { rule: options.rule } : {}),
        });
        const { items } = await client().json<{ items: WaitingReview[] }>(`/v1/reviews?${query}`);
        if (globals().json) process.stdout.write(`${JSON.stringify(items)}\n`);
        else if (items.length === 0) process.stdout.write('nothing waits for review\n');
        else for (const item of items) process.stdout.write(describeWaiting(item));
        return EXIT.ok;
      }),
    );

  program
    .command('review')
    .description('record a decision on a document waiting for review')
    .argument('<job>', 'job id (or the start of one)')
    .argument('<document>', 'document id (or the start of one, as docproc watch prints it)')
    .argument('<decision>', 'approve or reject')
    .option('--note <text>', 'why', '')
    .option('--field <name=value...>', 'correct an extracted field (repeatable)')
    .option('--reviewer <name>', 'who decides (default: your user name)', osUser())
    .action(
      run(async (jobGiven: string, documentGiven: string, decision: string, options: { note: string; field?: string[]; reviewer: string }) => {
        const job = await resolveJobId(client(), jobGiven);
        const document = await resolveDocumentId(client(), job, documentGiven);
        const fields = Object.fromEntries(
          (options.field ?? []).map((pair) => {
            const at = pair.indexOf('=');
            if (at < 1) throw new CliError(`--field takes name=value, not "${pair}"`, EXIT.usage);
            return [pair.slice(0, at), pair.slice(at + 1)];
          }),
        );
        const body = { decision, note: options.note, fields, reviewer: options.reviewer };
        const answer = await client().json<{ review: { status: string }; job: JobBody }>(
          `/v1/jobs/${encodeURIComponent(job)}/documents/${encodeURIComponent(document)}/review`,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        );
        if (globals().json) process.stdout.write(`${JSON.stringify(answer)}\n`);
        else {
          process.stdout.write(`document ${document} ${answer.review.status}\n`);
          printJob(answer.job);
        }
        return EXIT.ok;
      }),
    );

  program
    .command('new-key')
    .description('make an API key for a tenant: prints the key once, and its entry (SHA-256, never the key) for the API keys file')
    .requiredOption('--id <id>', 'a name for the key (logs and audit trails show it)')
    .requiredOption('--tenant <tenant>', 'whose jobs the key submits and sees')
    .requiredOption('--roles <roles>', 'comma-separated, from submit, read, review, admin, metrics')
    .option('--file <file>', 'add the entry to this API keys file (DOCPROC_API_KEYS_FILE), made when missing')
    .action(
      run(async (options: { id: string; tenant: string; roles: string; file?: string }) =>
        newKey({ ...options, ...(options.file ? { file: userPath(options.file) } : {}) }),
      ),
    );

  program
    .command('up')
    .description('start the platform on this machine: Redis (if none answers), the orchestrator and the workers, until Ctrl-C')
    .action(async () => up());

  return program;
}

/** The login name of whoever runs the CLI: who a review is recorded as, unless --reviewer says. */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'anonymous'; // no passwd entry (some containers)
  }
}

interface WaitingReview {
  jobId: string;
  documentId: string;
  name: string;
  since: string;
  reasons: { rule: string; message: string; severity: string }[];
  fields: Record<string, string>;
}

function describeWaiting(item: WaitingReview): string {
  const fields = Object.entries(item.fields).map(([k, v]) => `${k}=${v}`);
  return (
    `${item.jobId}  ${item.documentId}  ${item.name}  since ${item.since}\n` +
    item.reasons.map((r) => `  ${r.severity} ${r.rule}: ${r.message}\n`).join('') +
    (fields.length > 0 ? `  fields: ${fields.join(', ')}\n` : '')
  );
}
