import { constants, createReadStream } from 'node:fs';
import { access, copyFile, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { BlobNotFoundError, checkedBlobKey, type BlobStore } from './blob-store';
import { partOf, readPart, readPartStream } from './blob-parts';

/** A blob store in a local directory: one file per key. Writes are atomic (temp file + rename). */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    return join(this.root, ...checkedBlobKey(key).split('/'));
  }

  async put(key: string, data: Buffer | string): Promise<void> {
    const path = this.pathOf(key);
    const temp = `${path}.${randomUUID()}.tmp`;
    try {
      await writeFile(temp, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(path), { recursive: true }); // first blob in this directory
      await writeFile(temp, data);
    }
    await rename(temp, path);
  }

  async create(key: string, data: Buffer): Promise<void> {
    const path = this.pathOf(key);
    try {
      await writeFile(path, data, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(path), { recursive: true }); // first blob in this directory
      await writeFile(path, data, { flag: 'wx' });
    }
  }

  async putFile(key: string, sourcePath: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    try {
      await rename(sourcePath, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(sourcePath, path); // another file system: copy, then drop the source
      await unlink(sourcePath);
    }
  }

  async get(key: string): Promise<Buffer> {
    const part = partOf(key);
    try {
      return await (part ? readPart(this, part) : readFile(this.pathOf(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    const part = partOf(key);
    return part ? readPartStream(this, part, range) : createReadStream(this.pathOf(key), range);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(partOf(key)?.key ?? key));
      return true;
    } catch {
      return false;
    }
  }

  async size(key: string): Promise<number> {
    const part = partOf(key);
    if (part) return part.length;
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const path = this.pathOf(prefix);
    if (!path.startsWith(this.root + sep)) throw new Error(`refusing to delete "${prefix}"`);
    await rm(path, { recursive: true, force: true });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK).catch(() => {
      throw new Error(`blob directory ${this.root} is not writable`);
    });
  }

  close(): void {}
}
