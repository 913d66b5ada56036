#!/usr/bin/env node
import { CliError } from './client';
import { buildProgram } from './program';

// exitCode, not exit(): output still being written to a pipe must reach it.
const program = buildProgram((code) => (process.exitCode = code));
program.parseAsync(process.argv).catch((err: unknown) => {
  if (!(err instanceof CliError)) throw err;
  process.stderr.write(`docproc: ${err.message}\n`);
  process.exitCode = err.exitCode;
});
