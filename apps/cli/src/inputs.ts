import { stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { CliError } from './client';
import { EXIT } from './exit-codes';

export interface InputFile {
  path: string;
  /** The document's name: relative to the folder (or, for a glob, the working directory) it was found under. */
  name: string;
}

/**
 * The files `docproc submit` sends: each argument is a file, a folder (every file
 * under it, hidden ones left out) or a glob ("scans/**\/*.pdf"). Sorted by path, no repeats.
 */
export async function expandInputs(args: string[]): Promise<InputFile[]> {
  const files = new Map<string, string>();
  for (const arg of args) {
    if (isDynamicPattern(arg)) {
      const found = await glob(arg, { absolute: true, onlyFiles: true, dot: false });
      if (found.length === 0) throw new CliError(`no file matches ${arg}`, EXIT.usage);
      for (const path of found) files.set(path, relative(process.cwd(), path));
      continue;
    }
    const info = await stat(arg).catch(() => null);
    if (!info) throw new CliError(`no such file or folder: ${arg}`, EXIT.usage);
    if (info.isDirectory()) {
      const found = await glob('**/*', { cwd: arg, absolute: true, onlyFiles: true, dot: false });
      if (found.length === 0) throw new CliError(`the folder ${arg} holds no files`, EXIT.usage);
      for (const path of found) files.set(path, relative(resolve(arg), path));
    } else files.set(resolve(arg), basename(arg));
  }
  return uniqueNames([...files].sort(([a], [b]) => a.localeCompare(b)).map(([path, name]) => ({ path, name })));
}

/** Where two files would share a name (two folders given), each goes by its full path. */
function uniqueNames(files: InputFile[]): InputFile[] {
  const counts = new Map<string, number>();
  for (const f of files) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  return files.map((f) => (counts.get(f.name)! > 1 ? { path: f.path, name: f.path.replace(/^\/+/, '') } : f));
}
