import { Router } from 'express';
import { batchEndFields, deleteBatch, removeQueuedSteps, retryBatch } from '@docproc/batches';
import { FINAL_BATCH_STATUSES } from '@docproc/catalog';
import { act, principalOf } from './auth';
import type { AppDeps } from './deps';
import { HttpError, batchOr404, notFound } from './http-error';
import { afterParam, batchStatusParam, limitParam, nextCursor, timeParam } from './query';
import { batchView } from './views';

const conflict = (message: string) => new HttpError(409, 'conflict', message);

/** The v1 jobs API around a batch's life: list, status, cancel, retry, delete. */
export function jobsRoutes(deps: AppDeps): Router {
  const { store, blobs, queues, logger } = deps;
  const router = Router();

  /** Newest first, the key's tenant's (an administrator's: every tenant's); `status` and `since` filter; `cursor` pages on. */
  router.get('/', async (req, res) => {
    const limit = limitParam(req.query, 20, 100);
    const after = afterParam(req.query);
    const principal = principalOf(res);
    const tenant = principal.roles.includes('admin') ? undefined : principal.tenant;
    const { batches, last } = await store.listBatches({
      tenant,
      limit,
      status: batchStatusParam(req.query),
      since: timeParam(req.query, 'since'),
      after,
    });
    res.json({ jobs: batches.map(batchView), nextCursor: nextCursor(last) });
  });

  router.get('/:id', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    res.json({ ...batchView(batch), audit: await store.auditTrail(batch.id) });
  });

  /** Waiting tasks leave the queues; running ones are aborted by the workers that hold them. */
  router.post('/:id/cancel', async (req, res) => {
    const before = await store.cancelBatch(req.params.id);
    if (before === null) throw notFound(`no job ${req.params.id}`);
    if (FINAL_BATCH_STATUSES.includes(before)) throw conflict(`job ${req.params.id} already ended as ${before}`);
    const batch = await batchOr404(store, req.params.id);
    await removeQueuedSteps(queues, store, batch);
    const ended = await batchOr404(store, batch.id);
    const entry = act(res, 'cancelled');
    await store.audit(batch.id, entry);
    logger.info('batch ended', { ...batchEndFields(ended), by: entry.key, tenant: batch.tenant });
    res.status(202).json(batchView(ended));
  });

  /** Failed, timed-out and dead-lettered documents go round again from the step they failed in. */
  router.post('/:id/retry', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    if (batch.status === 'cancelled') throw conflict(`job ${batch.id} was cancelled: a cancelled job is not retried`);
    const retried = await retryBatch(store, queues, blobs, batch.id);
    if (retried === 0) throw conflict(`job ${batch.id} has no failed or timed-out documents to retry`);
    const entry = act(res, 'retried');
    await store.audit(batch.id, entry);
    logger.info('batch retried', { batchId: batch.id, documents: retried, by: entry.key, tenant: batch.tenant });
    res.status(202).json({ ...batchView(await batchOr404(store, batch.id)), retried });
  });

  /** Removes a finished job at once: records, documents, results and tasks. */
  router.delete('/:id', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    if (!FINAL_BATCH_STATUSES.includes(batch.status)) throw conflict(`job ${batch.id} is ${batch.status}: cancel it first, or wait for it to end`);
    await deleteBatch(store, queues, blobs, batch.id);
    // The audit trail goes with the job: the log keeps who deleted it.
    logger.info('batch deleted', { batchId: batch.id, by: principalOf(res).keyId, byTenant: principalOf(res).tenant, tenant: batch.tenant });
    res.status(204).end();
  });

  return router;
}
