import { resolve } from 'node:path';

/**
 * A path as the user typed it, from the directory they typed it in: `pnpm docproc` runs
 * the CLI from the repository's root, and says where the user was in INIT_CWD (as npm does).
 */
export function userPath(path: string): string {
  // eslint-disable-next-line no-restricted-properties -- where the user stood is only in the environment
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
