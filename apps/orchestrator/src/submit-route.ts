import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { Router } from 'express';
import { submitBatch, type NewDocument } from '@docproc/batches';
import { EmptyDocumentError } from '@docproc/catalog';
import { blobKeys } from '@docproc/storage';
import { backlogGauge, checkFirstStepTakes, checkLanguages, refuseWhenBusy, uploadedType } from './admission';
import type { AppDeps } from './deps';
import { badRequest } from './http-error';
import { parseSubmission } from './submission';
import { uploadFiles } from './upload';

/** Runs `work` over the items, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/**
 * POST /v1/jobs: refuses at once what cannot succeed (a busy platform: 429;
 * too many or too large files: 413; bad fields, unknown options, OCR languages
 * the workers lack, a first step that cannot read a file: 400), then stores
 * the documents and fans the batch out in chunks. An empty file fails alone as
 * `empty_document`; the rest of its batch goes on.
 */
export function submitRoute(deps: AppDeps): Router {
  const { config, store, blobs, queues, logger, redis } = deps;
  const router = Router();
  const backlog = backlogGauge(queues);

  router.post('/', refuseWhenBusy(backlog, config.maxBacklog), uploadFiles(config.dataDir, config), async (req, res) => {
    const files = (req.files as Express.Multer.File[] | undefined) ?? [];
    try {
      if (files.length === 0) throw badRequest('no documents: upload one or more files in the field "files"');
      const submission = parseSubmission(req.body ?? {});
      if (submission.pipeline.includes('ocr')) await checkLanguages(redis, config.keyPrefix, config.heartbeatMs, submission.options.languages);
      const types: (string | null)[] = new Array(files.length);
      await eachLimited(files, 32, async (file, i) => void (types[i] = file.size === 0 ? null : await uploadedType(file.path)));
      checkFirstStepTakes(
        submission.pipeline[0]!,
        files.flatMap((file, i) => (file.size === 0 ? [] : [{ name: file.originalname, type: types[i]! }])),
      );

      const id = randomUUID();
      const documents: NewDocument[] = new Array(files.length);
      await eachLimited(files, 32, async (file, i) => {
        const documentId = randomUUID();
        const blobKey = blobKeys.original(id, documentId);
        await blobs.putFile(blobKey, file.path);
        const empty = file.size === 0 ? { error: new EmptyDocumentError().toInfo() } : {};
        documents[i] = { id: documentId, name: file.originalname.slice(0, 255), blobKey, size: file.size, ...empty };
      });
      const createdAt = new Date();
      try {
        await submitBatch(store, queues, { id, ...submission, documents, createdAt });
      } catch (err) {
        // Half fanned out: what was queued must not run as a batch nobody was told of.
        await store.cancelBatch(id).catch(() => undefined);
        throw err;
      }
      logger.info('batch submitted', {
        batchId: id,
        documents: documents.length,
        pipeline: submission.pipeline.join(','),
        priority: submission.priority,
      });
      res.status(202).location(`/v1/jobs/${id}`).json({ id, status: 'queued', totalDocuments: documents.length, createdAt: createdAt.toISOString() });
    } finally {
      // Files moved into the blob store are gone from here; these are the leftovers of a refused request.
      await eachLimited(files, 32, (f) => unlink(f.path).catch(() => undefined));
    }
  });

  return router;
}
