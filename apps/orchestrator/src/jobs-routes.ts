import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { Router } from 'express';
import { enqueueBatch, removeQueuedSteps, type NewDocument } from '@docproc/batches';
import { FINAL_BATCH_STATUSES } from '@docproc/catalog';
import { blobKeys } from '@docproc/storage';
import type { AppDeps } from './app';
import { HttpError, badRequest, notFound } from './http-error';
import { parseSubmission } from './submission';
import { uploadFiles } from './upload';
import { batchView, documentView, type Extra } from './views';

const EXTRAS: readonly Extra[] = ['words', 'tokens'];

function parseInclude(value: unknown): Set<Extra> {
  if (value === undefined) return new Set();
  if (typeof value !== 'string') throw badRequest('"include" must be a comma-separated list');
  const names = value.split(',').filter(Boolean);
  for (const name of names) if (!EXTRAS.includes(name as Extra)) throw badRequest(`"include" takes ${EXTRAS.join(', ')}`);
  return new Set(names as Extra[]);
}

/** The v1 jobs API: submit, status, results, cancel, retry. */
export function jobsRoutes(deps: AppDeps): Router {
  const { config, store, blobs, queues, logger } = deps;
  const router = Router();

  router.post('/', uploadFiles(config.dataDir, config), async (req, res) => {
    const files = (req.files as Express.Multer.File[] | undefined) ?? [];
    try {
      if (files.length === 0) throw badRequest('no documents: upload one or more files in the field "files"');
      const submission = parseSubmission(req.body ?? {});
      const id = randomUUID();
      const documents: NewDocument[] = [];
      for (const file of files) {
        const documentId = randomUUID();
        const blobKey = blobKeys.original(id, documentId);
        await blobs.putFile(blobKey, file.path);
        documents.push({ id: documentId, name: file.originalname.slice(0, 255), blobKey, size: file.size });
      }
      const batch = { id, ...submission, documents, createdAt: new Date() };
      await store.createBatch(batch);
      try {
        await enqueueBatch(queues, batch);
      } catch (err) {
        await store.cancelBatch(id).catch(() => undefined);
        throw err;
      }
      logger.info('batch submitted', {
        batchId: id,
        documents: documents.length,
        pipeline: submission.pipeline.join(','),
        priority: submission.priority,
      });
      res
        .status(202)
        .location(`/v1/jobs/${id}`)
        .json({ id, status: 'queued', totalDocuments: documents.length, createdAt: batch.createdAt.toISOString() });
    } finally {
      // Files moved into the blob store are gone from here; these are the leftovers of a refused request.
      await Promise.all(files.map((f) => unlink(f.path).catch(() => undefined)));
    }
  });

  router.get('/:id', async (req, res) => {
    const batch = await store.getBatch(req.params.id);
    if (!batch) throw notFound(`no job ${req.params.id}`);
    res.json(batchView(batch));
  });

  router.get('/:id/results', async (req, res) => {
    const include = parseInclude(req.query.include);
    const batch = await store.getBatch(req.params.id);
    if (!batch) throw notFound(`no job ${req.params.id}`);
    const documents = await store.getDocuments(batch.id);
    res.json({
      id: batch.id,
      status: batch.status,
      successful: batch.completed,
      failed: batch.failed + batch.cancelled,
      documents: await Promise.all(documents.map((doc) => documentView(blobs, batch.pipeline, doc, include))),
    });
  });

  router.post('/:id/cancel', async (req, res) => {
    const before = await store.cancelBatch(req.params.id);
    if (before === null) throw notFound(`no job ${req.params.id}`);
    if (FINAL_BATCH_STATUSES.includes(before) && before !== 'cancelled') {
      throw new HttpError(409, 'conflict', `job ${req.params.id} already ended as ${before}`);
    }
    const batch = (await store.getBatch(req.params.id))!;
    await removeQueuedSteps(queues, store, batch);
    logger.info('batch cancelled', { batchId: batch.id });
    res.status(202).json(batchView((await store.getBatch(batch.id))!));
  });

  router.post('/:id/retry', async (req) => {
    const batch = await store.getBatch(req.params.id);
    if (!batch) throw notFound(`no job ${req.params.id}`);
    throw new HttpError(501, 'not_implemented', 'retrying a job is not implemented yet');
  });

  return router;
}
