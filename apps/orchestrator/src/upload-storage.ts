import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';

/** A file this small is kept in memory until it is stored: 10,000 small files must not mean 10,000 temporary files. */
const SMALL_FILE_BYTES = 256 * 1024;
/** ... as long as one request holds no more than this in memory; past it, files go to disk. */
const REQUEST_MEMORY_BYTES = 64 * 1024 * 1024;

/** An uploaded file: in memory (`buffer`) when small, else on disk (`path`). */
export type UploadedFile = Express.Multer.File & { buffer?: Buffer; path?: string };

const held = new WeakMap<Request, number>();

/**
 * Multer storage that keeps small files in memory and streams larger ones to
 * a temporary file under `dir` (never a whole large file in memory).
 */
export function smallInMemory(dir: string): StorageEngine {
  return {
    _handleFile(req, file, done) {
      const chunks: Buffer[] = [];
      let size = 0;
      let disk: { path: string; out: ReturnType<typeof createWriteStream> } | undefined;
      const toDisk = () => {
        const path = join(dir, randomUUID());
        disk = { path, out: createWriteStream(path) };
        disk.out.on('error', (err) => done(err));
        for (const chunk of chunks) disk.out.write(chunk);
        chunks.length = 0;
      };
      file.stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (disk) {
          if (!disk.out.write(chunk)) {
            file.stream.pause();
            disk.out.once('drain', () => file.stream.resume());
          }
          return;
        }
        chunks.push(chunk);
        if (size > SMALL_FILE_BYTES || (held.get(req) ?? 0) + size > REQUEST_MEMORY_BYTES) toDisk();
      });
      file.stream.on('error', (err) => done(err));
      file.stream.on('end', () => {
        if (!disk) {
          held.set(req, (held.get(req) ?? 0) + size);
          return done(null, { buffer: Buffer.concat(chunks, size), size });
        }
        const { out, path } = disk;
        out.end(() => done(null, { path, size }));
      });
    },
    _removeFile(_req, file, done) {
      const path = (file as UploadedFile).path;
      if (!path) return done(null);
      unlink(path).then(
        () => done(null),
        () => done(null),
      );
    },
  };
}
