#!/usr/bin/env node
import { up } from './up';

const USAGE = `usage: docproc <command>

commands:
  up      start Redis (if none answers), the orchestrator and the four workers
`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case 'up':
      return up();
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`docproc: unknown command "${command}"\n\n${USAGE}`);
      process.exit(64);
  }
}

void main(process.argv.slice(2));
