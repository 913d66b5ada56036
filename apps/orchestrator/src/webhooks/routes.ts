import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { AppDeps } from '../deps';
import { batchOr404, notFound } from '../http-error';
import type { Deliveries, Delivery } from './deliveries';

const view = ({ payload: _payload, batchId: _batchId, tenant: _tenant, ...delivery }: Delivery) => delivery;

/** GET /v1/jobs/:id/webhooks: the job's deliveries and each try; POST …/:deliveryId/redeliver sends one again. */
export function webhookRoutes(deps: Pick<AppDeps, 'store' | 'logger'>, webhooks: { deliveries: Deliveries; queue: Queue }): Router {
  const router = Router();
  router.get('/:id/webhooks', async (req, res) => {
    const batch = await batchOr404(deps.store, req.params.id);
    res.json({ deliveries: (await webhooks.deliveries.ofBatch(batch.id)).map(view) });
  });
  router.post('/:id/webhooks/:deliveryId/redeliver', async (req, res) => {
    const batch = await batchOr404(deps.store, req.params.id);
    const delivery = await webhooks.deliveries.get(req.params.deliveryId);
    if (!delivery || delivery.batchId !== batch.id) throw notFound(`no delivery ${req.params.deliveryId} of job ${batch.id}`);
    // Another job of the queue: the same delivery (its id, its body) sent again, with tries of its own.
    await webhooks.queue.add('deliver', { deliveryId: delivery.id }, { jobId: `${delivery.id}.again.${Date.now()}` });
    deps.logger.info('webhook redelivered', { delivery: delivery.id, url: delivery.url });
    res.status(202).json(view({ ...delivery, status: 'pending' }));
  });
  return router;
}
