import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CliError, type ApiClient } from './client';
import { EXIT } from './exit-codes';
import { exitCodeOf, followJob } from './follow';
import { expandInputs } from './inputs';

export interface SubmitOptions {
  pipeline?: string;
  priority?: string;
  options?: string;
  wait?: boolean;
  json: boolean;
}

/** `--options` is JSON, or @file holding JSON. */
async function optionsText(value: string): Promise<string> {
  const text = value.startsWith('@') ? await readFile(value.slice(1), 'utf8').catch(() => null) : value;
  if (text === null) throw new CliError(`cannot read the options file ${value.slice(1)}`, EXIT.usage);
  try {
    JSON.parse(text);
  } catch {
    throw new CliError('--options must be JSON (or @file.json)', EXIT.usage);
  }
  return text;
}

/** `docproc submit`: uploads the files as one job; with --wait follows it to the end. Returns the exit code. */
export async function submit(client: ApiClient, inputs: string[], options: SubmitOptions): Promise<number> {
  const files = await expandInputs(inputs);
  const form = new FormData();
  for (const file of files) form.append('files', await openAsBlob(file.path), file.name);
  if (options.pipeline) form.append('pipeline', options.pipeline);
  if (options.priority !== undefined) form.append('priority', options.priority);
  if (options.options) form.append('options', await optionsText(options.options));
  const job = await client.json<{ id: string; totalDocuments: number }>('/v1/jobs', { method: 'POST', body: form });
  if (!options.wait) {
    process.stdout.write(options.json ? `${JSON.stringify(job)}\n` : `${job.id}\n`);
    if (!options.json) process.stderr.write(`submitted ${job.totalDocuments} document(s); follow with: docproc watch ${job.id}\n`);
    return EXIT.ok;
  }
  if (!options.json) process.stderr.write(`job ${job.id}: ${job.totalDocuments} document(s)\n`);
  const ended = await followJob(client, job.id, { json: options.json, out: options.json ? process.stderr : process.stdout });
  if (options.json) process.stdout.write(`${JSON.stringify(ended)}\n`);
  else
    process.stdout.write(
      `job ${ended.id} ${ended.status}: ${ended.progress.completed} completed, ${ended.progress.failed} failed, ${ended.progress.cancelled} cancelled\n`,
    );
  return exitCodeOf(ended);
}
