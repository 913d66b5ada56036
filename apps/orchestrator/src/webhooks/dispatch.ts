import type { Queue } from 'bullmq';
import { Lease, readEvents, type BatchEvent, type BatchRecord, type BatchStore } from '@docproc/batches';
import { FINAL_BATCH_STATUSES, type WebhookEvent } from '@docproc/catalog';
import type { Logger } from '@docproc/runtime';
import { batchView } from '../views';
import type { Deliveries, WebhookTarget } from './deliveries';

/** The webhook event a progress event of the batch's stream is, if any. */
function webhookEventOf(event: BatchEvent): WebhookEvent | null {
  const status = String(event.data.status ?? '');
  if (event.type === 'batch' && (FINAL_BATCH_STATUSES.includes(status as never) || status === 'awaiting_review'))
    return `job.${status}` as WebhookEvent;
  if (event.type === 'document' && status === 'completed') return 'document.completed';
  if (event.type === 'document' && (status === 'failed' || status === 'timeout')) return 'document.failed';
  if (event.type === 'review' && status === 'waiting') return 'review.requested';
  return null;
}

/**
 * Turns the progress events of each batch that has a webhook into deliveries, on the
 * webhooks queue: read from the batch's event stream (the same one SSE reads) after where
 * the last look stopped. A delivery's id is the batch's and the event's, so a look that
 * is repeated (after a crash, or by another orchestrator) makes no second delivery. The
 * workers never wait for any of it.
 */
async function dispatchWebhooks(deps: { store: BatchStore; deliveries: Deliveries; queue: Queue; logger: Logger }): Promise<void> {
  const { store, deliveries } = deps;
  for (const [batchId, target] of await deliveries.followed()) {
    const batch = await store.getBatch(batchId);
    if (!batch) {
      await deliveries.unfollow(batchId);
      continue;
    }
    let cursor = await deliveries.cursor(batchId);
    for (;;) {
      const events = await readEvents(store.connection, store.keys.events(batchId), cursor, 200);
      for (const event of events) {
        const type = webhookEventOf(event);
        if (type && target.events.includes(type)) await deliver(deps, target, batch, event, type);
        cursor = event.id;
      }
      if (events.length > 0) await deliveries.advance(batchId, cursor);
      if (events.length < 200) break;
    }
    if (FINAL_BATCH_STATUSES.includes(batch.status)) await deliveries.unfollow(batchId);
  }
}

async function deliver(
  deps: { store: BatchStore; deliveries: Deliveries; queue: Queue; logger: Logger },
  target: WebhookTarget,
  batch: BatchRecord,
  event: BatchEvent,
  type: WebhookEvent,
): Promise<void> {
  const batchId = batch.id;
  const id = `${batchId}.${event.id}`;
  const documentId = event.data.document === undefined ? undefined : String(event.data.document);
  const doc = documentId ? await deps.store.getDocument(documentId) : null;
  const payload = JSON.stringify({
    type,
    timestamp: typeof event.data.at === 'string' ? event.data.at : new Date().toISOString(),
    data: {
      job: batchView(batch),
      ...(doc ? { document: { id: doc.id, name: doc.name, status: doc.status, error: doc.error?.code ?? null } } : {}),
    },
  });
  const created = await deps.deliveries.create({
    id,
    batchId,
    tenant: target.tenant,
    event: type,
    url: target.url,
    createdAt: new Date().toISOString(),
    payload,
  });
  // Queued once: BullMQ keeps one job per id (a repeated look adds nothing).
  if (created) await deps.queue.add('deliver', { deliveryId: id }, { jobId: id });
}

/** Looks every `intervalMs`, one orchestrator at a time (a lease); returns the stop. */
export function startDispatching(deps: { store: BatchStore; deliveries: Deliveries; queue: Queue; logger: Logger }, intervalMs = 500): () => void {
  let stopped = false;
  const look = async () => {
    while (!stopped) {
      await Lease.holding(deps.store.connection, `${deps.deliveries.keys.webhookTargets}:dispatching`, 15_000, () => dispatchWebhooks(deps)).catch(
        (err: Error) => deps.logger.warn('webhook dispatch failed; trying again', { error: err.message }),
      );
      await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
    }
  };
  void look();
  return () => {
    stopped = true;
  };
}
