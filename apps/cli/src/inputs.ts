import { open, stat } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { detectMediaType } from '@docproc/catalog';
import { CliError } from './client';
import { EXIT } from './exit-codes';
import { userPath } from './user-paths';

export interface InputFile {
  path: string;
  /** The document's name: relative to the folder (or, for a glob, the working directory) it was found under. */
  name: string;
}

/**
 * The files `docproc submit` sends: each argument is a file, a folder (every file
 * under it, hidden ones left out) or a glob ("scans/**\/*.pdf"), from the user's own
 * directory. Sorted by path, no repeats.
 */
export async function expandInputs(args: string[]): Promise<InputFile[]> {
  const files = new Map<string, string>();
  const here = userPath('.');
  for (const arg of args) {
    if (isDynamicPattern(arg)) {
      const found = await glob(arg, { cwd: here, absolute: true, onlyFiles: true, dot: false });
      if (found.length === 0) throw new CliError(`no file matches ${arg}`, EXIT.usage);
      for (const path of found) files.set(path, relative(here, path));
      continue;
    }
    const info = await stat(userPath(arg)).catch(() => null);
    if (!info) throw new CliError(`no such file or folder: ${arg}`, EXIT.usage);
    if (info.isDirectory()) {
      const found = await glob('**/*', { cwd: userPath(arg), absolute: true, onlyFiles: true, dot: false });
      if (found.length === 0) throw new CliError(`the folder ${arg} holds no files`, EXIT.usage);
      for (const path of found) files.set(path, relative(userPath(arg), path));
    } else files.set(userPath(arg), basename(arg));
  }
  return uniqueNames([...files].sort(([a], [b]) => a.localeCompare(b)).map(([path, name]) => ({ path, name })));
}

/** What docproc reads: PDFs, images and plain text, told by their first bytes (as the API tells them). */
async function readable(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return bytesRead > 0 && detectMediaType(head.subarray(0, bytesRead)) !== null;
  } finally {
    await file.close();
  }
}

/** The files docproc can read, and the names of those it cannot (a .docx, a binary) that a folder or glob brought along. */
export async function readableInputs(files: InputFile[]): Promise<{ files: InputFile[]; skipped: string[] }> {
  const kept: InputFile[] = [];
  const skipped: InputFile[] = [];
  for (const file of files) ((await readable(file.path)) ? kept : skipped).push(file);
  return { files: kept, skipped: skipped.map((f) => f.name) };
}

/** Where two files would share a name (two folders given), each goes by its full path. */
function uniqueNames(files: InputFile[]): InputFile[] {
  const counts = new Map<string, number>();
  for (const f of files) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  return files.map((f) => (counts.get(f.name)! > 1 ? { path: f.path, name: f.path.replace(/^\/+/, '') } : f));
}
