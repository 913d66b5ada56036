import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import multer from 'multer';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error';
import { smallInMemory } from './upload-storage';

export interface UploadLimits {
  maxUploadBytes: number;
  maxDocumentsPerJob: number;
}

/**
 * Multipart upload of the `files` field: small files in memory, larger ones
 * streamed to disk under the data directory (so the blob store can move them
 * in), never a whole large file in memory.
 */
export function uploadFiles(dataDir: string, limits: UploadLimits): RequestHandler {
  const dest = join(dataDir, 'uploads');
  mkdirSync(dest, { recursive: true });
  const upload = multer({
    storage: smallInMemory(dest),
    // A document's name is a label, never a storage path (blobs live under generated
    // keys), so a folder's structure ("scans/2024/a.pdf") stays visible in results.
    preservePath: true,
    limits: { fileSize: limits.maxUploadBytes, files: limits.maxDocumentsPerJob, fields: 20, fieldSize: 1024 * 1024 },
  }).array('files', limits.maxDocumentsPerJob);

  return (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      return next(new HttpError(415, 'unsupported_media_type', 'send documents as multipart/form-data in the field "files"'));
    }
    upload(req, res, (err: unknown) => {
      if (!err) return next();
      if (err instanceof multer.MulterError) {
        switch (err.code) {
          case 'LIMIT_FILE_SIZE':
            return next(new HttpError(413, 'too_large', `a file is larger than the limit of ${limits.maxUploadBytes} bytes`));
          case 'LIMIT_FILE_COUNT':
            return next(new HttpError(413, 'too_many_files', `a job takes at most ${limits.maxDocumentsPerJob} files`));
          case 'LIMIT_UNEXPECTED_FILE':
            return next(new HttpError(400, 'bad_request', `unexpected file field "${err.field}": upload documents in the field "files"`));
          default:
            return next(new HttpError(400, 'bad_request', err.message));
        }
      }
      next(new HttpError(400, 'bad_request', `the upload could not be read: ${(err as Error).message}`));
    });
  };
}
