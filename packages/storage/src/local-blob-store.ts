import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { BlobNotFoundError, type BlobStore } from './blob-store';

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** A blob store in a local directory: one file per key. Writes are atomic (temp file + rename). */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
      throw new Error(`invalid blob key "${key}"`);
    }
    return join(this.root, ...key.split('/'));
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
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(key), range);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async size(key: string): Promise<number> {
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
}
