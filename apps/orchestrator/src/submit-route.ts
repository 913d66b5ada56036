import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { Router, type RequestHandler } from 'express';
import { FAN_OUT_CHUNK, deleteBatch, queueFirstSteps, recordBatch, type NewDocument } from '@docproc/batches';
import { DEFAULT_WEBHOOK_EVENTS, EmptyDocumentError, type WebhookOption } from '@docproc/catalog';
import { blobKeys, partKey, type BlobStore } from '@docproc/storage';
import { fanOut, takeFanOut } from './housekeeping';
import { backlogGauge, checkFirstStepTakes, checkLanguages, refuseWhenBusy, uploadedType } from './admission';
import type { KeyRing } from './api-keys';
import { principalOf } from './auth';
import { admitWithinQuotas, refuseOverQuota } from './quotas';
import { namesPrivateHost } from './webhooks/addresses';
import type { Deliveries, WebhookTarget } from './webhooks/deliveries';
import { checkDefinitions } from './definitions';
import type { AppDeps } from './deps';
import { HttpError, badRequest } from './http-error';
import { parseSubmission } from './submission';
import { uploadFiles } from './upload';
import type { UploadedFile } from './upload-storage';
import type { Redis } from 'ioredis';
import { nodeHolding } from '@docproc/runtime';

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

/** Notes when the request came in, so the log can say how long the upload took. */
const markStart: RequestHandler = (_req, res, next) => {
  res.locals.startedAt = Date.now();
  next();
};

/**
 * Stores a batch's uploads and fills in its documents: the files held in memory (small
 * ones) packed in one blob — one write however many, each document's key naming its part
 * (storage's blob-parts.ts) — and the larger ones, on disk, moved in a few at a time.
 */
async function storeOriginals(blobs: BlobStore, batchId: string, files: UploadedFile[], documents: NewDocument[]): Promise<void> {
  const packKey = blobKeys.originalsPack(batchId);
  const packed: Buffer[] = [];
  let offset = 0;
  const document = (file: UploadedFile, blobKeyOf: (documentId: string) => string): NewDocument => {
    const id = randomUUID();
    const empty = file.size === 0 ? { error: new EmptyDocumentError().toInfo() } : {};
    return { id, name: file.originalname.slice(0, 255), blobKey: blobKeyOf(id), size: file.size, ...empty };
  };
  files.forEach((file, i) => {
    if (!file.buffer) return;
    const start = offset;
    documents[i] = document(file, () => partKey(packKey, start, file.size));
    packed.push(file.buffer);
    offset += file.size;
  });
  if (packed.length > 0) await blobs.create(packKey, Buffer.concat(packed, offset));
  // A few at a time: libuv has four threads for the file system, and more only queue.
  await eachLimited(files, 16, async (file, i) => {
    if (file.buffer) return;
    const doc = document(file, (documentId) => blobKeys.original(batchId, documentId));
    await blobs.putFile(doc.blobKey, file.path!);
    documents[i] = doc;
  });
}

/**
 * POST /v1/jobs: refuses at once what cannot succeed (a busy platform: 429;
 * too many or too large files: 413; bad fields, unknown options, OCR languages
 * the workers lack, a first step that cannot read a file: 400), then stores
 * the documents and fans the batch out in chunks. An empty file fails alone as
 * `empty_document`; the rest of its batch goes on.
 */
export function submitRoute(deps: AppDeps, ring: Pick<KeyRing, 'quotasOf' | 'webhookOf'>, deliveries: Deliveries): Router {
  const { config, store, blobs, queues, logger, redis } = deps;
  const router = Router();
  const backlog = backlogGauge(queues, redis);

  const upload = uploadFiles(config.dataDir, config);
  router.post('/', markStart, refuseWhenBusy(backlog, config.maxBacklog), refuseOverQuota(ring, store), upload, async (req, res) => {
    const files = (req.files as UploadedFile[] | undefined) ?? [];
    const ms = { upload: Date.now() - (res.locals.startedAt as number), check: 0, store: 0, record: 0 };
    let lap = Date.now();
    const split = (what: keyof typeof ms) => {
      ms[what] = Date.now() - lap;
      lap = Date.now();
    };
    // Today's documents taken by the quota check, given back if the submit is refused after it.
    let giveBackToday: (() => Promise<void>) | undefined;
    try {
      if (files.length === 0) throw badRequest('no documents: upload one or more files in the field "files"');
      const submission = parseSubmission(req.body ?? {});
      if (submission.pipeline.includes('ocr')) await checkLanguages(redis, config.keyPrefix, config.heartbeatMs, submission.options.languages);
      const principal = principalOf(res);
      await checkDefinitions(deps, principal.tenant, submission.options, submission.pipeline.includes('validate'));
      const webhook = webhookTarget(config, ring, principal.tenant, submission.options.webhook);
      giveBackToday = await admitWithinQuotas(store, principal.tenant, ring.quotasOf(principal.tenant), files);
      const types: (string | null)[] = new Array(files.length);
      await eachLimited(files, 32, async (file, i) => void (types[i] = file.size === 0 ? null : await uploadedType(file)));
      checkFirstStepTakes(
        submission.pipeline[0]!,
        files.flatMap((file, i) => (file.size === 0 ? [] : [{ name: file.originalname, type: types[i]! }])),
      );

      split('check');
      const id = randomUUID();
      const documents: NewDocument[] = new Array(files.length);
      try {
        await storeOriginals(blobs, id, files, documents);
      } catch (err) {
        // A full disk or a store away mid-way: no blob may stay without its job.
        await blobs.deletePrefix(blobKeys.batch(id)).catch(() => undefined);
        throw err;
      }
      split('store');
      const createdAt = new Date();
      // A large batch's fan-out is this orchestrator's from the start: none other takes it up while it lives.
      const lease = documents.length > FAN_OUT_CHUNK ? await takeFanOut(deps, id) : null;
      try {
        await recordBatch(store, { id, tenant: principal.tenant, submittedBy: principal.keyId, ...submission, documents, createdAt });
        // A small batch is queued before the answer; a large one goes on in chunks after it (and
        // is resumed at the next start should this process stop mid-way).
        if (webhook) await deliveries.follow(id, webhook);
        if (documents.length <= FAN_OUT_CHUNK) await queueFirstSteps(store, queues, id);
        else void fanOut(deps, id, lease ?? undefined);
        await onReplicas(nodeHolding(redis, config.keyPrefix), config.redisMinReplicas, config.redisReplicaWaitMs);
      } catch (err) {
        // Half recorded (or not on the replicas): nobody was told of this job, so nothing of it
        // may stay — its tasks, blobs and records go. (A store that refuses writes now may keep
        // some records; cancelling first stops any task already queued.)
        await store.cancelBatch(id).catch(() => undefined);
        await deleteBatch(store, queues, blobs, id).catch(() => undefined);
        await lease?.giveUp();
        throw err;
      }
      split('record');
      logger.info('batch submitted', {
        batchId: id,
        tenant: principal.tenant,
        by: principal.keyId,
        documents: documents.length,
        pipeline: submission.pipeline.join(','),
        priority: submission.priority,
        ms,
      });
      res.status(202).location(`/v1/jobs/${id}`).json({ id, status: 'queued', totalDocuments: documents.length, createdAt: createdAt.toISOString() });
    } catch (err) {
      await giveBackToday?.().catch(() => undefined);
      throw err;
    } finally {
      // Files moved into the blob store are gone from here; these are the leftovers of a refused request.
      await eachLimited(files, 32, async (f) => void (f.path ? await unlink(f.path).catch(() => undefined) : undefined));
    }
  });

  return router;
}

/**
 * Where the job's events go: its `options.webhook`, else its tenant's default URL — signed
 * with the tenant's secret, so a tenant without one cannot have webhooks (400), and never
 * to a private address unless DOCPROC_WEBHOOK_ALLOW_PRIVATE (checked again, resolved, at
 * each delivery).
 */
function webhookTarget(
  config: AppDeps['config'],
  ring: Pick<KeyRing, 'webhookOf'>,
  tenant: string,
  option: WebhookOption | undefined,
): WebhookTarget | undefined {
  const tenantHook = ring.webhookOf(tenant);
  const url = option?.url ?? tenantHook?.url;
  if (!url) return undefined;
  if (!tenantHook)
    throw badRequest(`tenant ${tenant} has no webhook secret: give its entry in the API keys file a webhook { secret }`, [
      { path: 'options.webhook', message: 'no secret to sign with' },
    ]);
  if (!config.webhookAllowPrivate && namesPrivateHost(url))
    throw badRequest(`the webhook URL ${url} names a private address (DOCPROC_WEBHOOK_ALLOW_PRIVATE is off)`, [
      { path: 'options.webhook.url', message: 'a private address' },
    ]);
  const events = option ? (option.events ?? DEFAULT_WEBHOOK_EVENTS) : (tenantHook.events ?? DEFAULT_WEBHOOK_EVENTS);
  return { url, events, tenant };
}

/**
 * Waits until the writes made so far on this connection (the batch, its documents and
 * first tasks; on a cluster, the connection to the prefix's node) are on `replicas` replicas (Redis WAIT), so a failover cannot lose a batch
 * that was acknowledged; 503 with Retry-After when they are not there in time.
 */
async function onReplicas(redis: Redis, replicas: number, timeoutMs: number): Promise<void> {
  if (replicas === 0) return;
  const acknowledged = Number(await redis.call('WAIT', replicas, timeoutMs));
  if (acknowledged >= replicas) return;
  throw new HttpError(
    503,
    'not_replicated',
    `the job reached ${acknowledged} of the ${replicas} Redis replica(s) it must be on before it is accepted (DOCPROC_REDIS_MIN_REPLICAS): try again`,
    { replicas: acknowledged, required: replicas },
    { 'Retry-After': '5' },
  );
}
