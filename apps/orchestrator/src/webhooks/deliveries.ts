import type { RecordKeys, RedisClient } from '@docproc/batches';
import type { WebhookEvent } from '@docproc/catalog';

/** Where a batch's events go: the URL, the events it wants, and the tenant whose secret signs them. */
export interface WebhookTarget {
  url: string;
  events: readonly WebhookEvent[];
  tenant: string;
}

export interface DeliveryAttempt {
  at: string;
  /** The receiver's HTTP status; none when it could not be reached or did not answer in time. */
  status?: number;
  error?: string;
  ms: number;
}

export interface Delivery {
  id: string;
  batchId: string;
  tenant: string;
  event: WebhookEvent;
  url: string;
  /** pending: not delivered yet (being tried); delivered: a 2xx came back; failed: every try failed. */
  status: 'pending' | 'delivered' | 'failed';
  createdAt: string;
  /** The body POSTed (the same on every attempt). */
  payload: string;
  attempts: DeliveryAttempt[];
}

/** The webhook records: targets, deliveries and their attempts — read and written here only. */
export class Deliveries {
  constructor(
    private readonly redis: RedisClient,
    readonly keys: RecordKeys,
  ) {}

  async follow(batchId: string, target: WebhookTarget): Promise<void> {
    await this.redis.hset(this.keys.webhookTargets, batchId, JSON.stringify(target));
  }

  async followed(): Promise<Map<string, WebhookTarget>> {
    const all = await this.redis.hgetall(this.keys.webhookTargets);
    return new Map(Object.entries(all).map(([batchId, json]) => [batchId, JSON.parse(json) as WebhookTarget]));
  }

  async cursor(batchId: string): Promise<string> {
    return (await this.redis.hget(this.keys.webhookCursors, batchId)) ?? '0';
  }

  async advance(batchId: string, eventId: string): Promise<void> {
    await this.redis.hset(this.keys.webhookCursors, batchId, eventId);
  }

  async unfollow(batchId: string): Promise<void> {
    await this.redis.multi().hdel(this.keys.webhookTargets, batchId).hdel(this.keys.webhookCursors, batchId).exec();
  }

  /** Records a delivery unless it exists (its id is stable: the batch and the event); whether it was new. */
  async create(delivery: Omit<Delivery, 'status' | 'attempts'>): Promise<boolean> {
    const { id, ...fields } = delivery;
    const created = await this.redis.hsetnx(this.keys.webhookDelivery(id), 'id', id);
    if (created === 0) return false;
    await this.redis
      .multi()
      .hset(this.keys.webhookDelivery(id), { ...fields, status: 'pending' })
      .rpush(this.keys.batchWebhooks(delivery.batchId), id)
      .exec();
    return true;
  }

  async attempted(id: string, attempt: DeliveryAttempt, status: Delivery['status']): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.keys.webhookAttempts(id), JSON.stringify(attempt))
      .hset(this.keys.webhookDelivery(id), 'status', status)
      .exec();
  }

  async get(id: string): Promise<Delivery | null> {
    const [h, attempts] = await Promise.all([
      this.redis.hgetall(this.keys.webhookDelivery(id)),
      this.redis.lrange(this.keys.webhookAttempts(id), 0, -1),
    ]);
    if (!h.id) return null;
    return {
      id: h.id,
      batchId: h.batchId!,
      tenant: h.tenant!,
      event: h.event as WebhookEvent,
      url: h.url!,
      status: h.status as Delivery['status'],
      createdAt: h.createdAt!,
      payload: h.payload!,
      attempts: attempts.map((json) => JSON.parse(json) as DeliveryAttempt),
    };
  }

  /** A batch's deliveries, oldest first. */
  async ofBatch(batchId: string): Promise<Delivery[]> {
    const ids = await this.redis.lrange(this.keys.batchWebhooks(batchId), 0, -1);
    return (await Promise.all(ids.map((id) => this.get(id)))).filter((d): d is Delivery => d !== null);
  }
}
