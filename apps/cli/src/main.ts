#!/usr/bin/env node
import { CliError } from './client';
import { buildProgram } from './program';

// The reader of our output went away (`docproc results --json | head`): nothing more to say.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// exitCode, not exit(): output still being written to a pipe must reach it.
const program = buildProgram((code) => (process.exitCode = code));
program.parseAsync(process.argv).catch((err: unknown) => {
  if (!(err instanceof CliError)) throw err;
  process.stderr.write(`docproc: ${err.message}\n`);
  process.exitCode = err.exitCode;
});
