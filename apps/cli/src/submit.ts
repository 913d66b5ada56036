import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { jobOptionsSchema } from '@docproc/catalog';
import { CliError, type ApiClient } from './client';
import { EXIT } from './exit-codes';
import { exitCodeOf, followJob } from './follow';
import { expandInputs, readableInputs } from './inputs';
import { userPath } from './user-paths';

export interface SubmitOptions {
  pipeline?: string;
  priority?: string;
  options?: string;
  wait?: boolean;
  /** Refuse the whole submission when a folder or glob brings files docproc cannot read (default: skip them, and say so). */
  strict?: boolean;
  json: boolean;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The known option nearest to a mistyped one, when it is near enough to be meant. */
function nearest(key: string): string | undefined {
  const known = Object.keys(jobOptionsSchema.shape);
  const [best] = known.map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d);
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : undefined;
}

/**
 * `--options` is JSON, or @file holding JSON, checked against the job options' schema before
 * anything is uploaded: a typo is a usage error naming the option meant.
 */
async function optionsText(value: string): Promise<string> {
  const text = value.startsWith('@') ? await readFile(userPath(value.slice(1)), 'utf8').catch(() => null) : value;
  if (text === null) throw new CliError(`cannot read the options file ${value.slice(1)}`, EXIT.usage);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError('--options must be JSON (or @file.json)', EXIT.usage);
  }
  const checked = jobOptionsSchema.safeParse(parsed);
  if (!checked.success) {
    const problems = checked.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => {
            const meant = nearest(key);
            return `unknown option "${key}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
          })
        : [`${issue.path.join('.') || 'options'}: ${issue.message}`],
    );
    throw new CliError(`--options: ${problems.join('; ')}`, EXIT.usage);
  }
  return text;
}

/** `docproc submit`: uploads the files as one job; with --wait follows it to the end. Returns the exit code. */
export async function submit(client: ApiClient, inputs: string[], options: SubmitOptions): Promise<number> {
  const optionsJson = options.options ? await optionsText(options.options) : undefined;
  const { files, skipped } = await readableInputs(await expandInputs(inputs));
  if (skipped.length > 0) {
    const list = `${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? `, and ${skipped.length - 10} more` : ''}`;
    if (options.strict) throw new CliError(`docproc cannot read ${skipped.length} of the files (not a PDF, an image or text): ${list}`, EXIT.usage);
    process.stderr.write(`skipped ${skipped.length} file(s) docproc cannot read (not a PDF, an image or text): ${list}\n`);
  }
  if (files.length === 0) throw new CliError('none of the files is one docproc reads (PDF, PNG, JPEG, TIFF, WebP, GIF, BMP, plain text)', EXIT.usage);
  const form = new FormData();
  for (const file of files) form.append('files', await openAsBlob(file.path), file.name);
  if (options.pipeline) form.append('pipeline', options.pipeline);
  if (options.priority !== undefined) form.append('priority', options.priority);
  if (optionsJson) form.append('options', optionsJson);
  const job = await client.json<{ id: string; totalDocuments: number }>('/v1/jobs', { method: 'POST', body: form });
  if (!options.wait) {
    process.stdout.write(options.json ? `${JSON.stringify(job)}\n` : `${job.id}\n`);
    if (!options.json) process.stderr.write(`submitted ${job.totalDocuments} document(s); follow with: docproc watch ${job.id}\n`);
    return EXIT.ok;
  }
  // stdout holds only the job (its id; --json: the job as it ended), so that ID=$(docproc submit … --wait) works; the progress goes to stderr
  if (!options.json) {
    process.stdout.write(`${job.id}\n`);
    process.stderr.write(`job ${job.id}: ${job.totalDocuments} document(s)\n`);
  }
  const ended = await followJob(client, job.id, { json: options.json, out: process.stderr });
  if (options.json) process.stdout.write(`${JSON.stringify(ended)}\n`);
  else
    process.stderr.write(
      `job ${ended.id} ${ended.status}: ${ended.progress.completed} completed, ${ended.progress.failed} failed, ${ended.progress.cancelled} cancelled\n`,
    );
  return exitCodeOf(ended);
}
