import type { RequestHandler } from 'express';
import type { BatchStore } from '@docproc/batches';
import type { Quota, Quotas } from '@docproc/catalog';
import type { KeyRing } from './api-keys';
import { principalOf } from './auth';
import { HttpError } from './http-error';

/**
 * A quota in the way, counted (docproc_quota_refusals_total): 413 for what one job may hold,
 * 429 (with Retry-After) for what is used up for now.
 */
async function overQuota(
  store: BatchStore,
  tenant: string,
  quota: Quota,
  limit: number,
  message: string,
  retryAfterSeconds?: number,
): Promise<HttpError> {
  await store.countQuotaRefusal(tenant, quota).catch(() => undefined);
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) };
  return new HttpError(
    retryAfterSeconds === undefined ? 413 : 429,
    'quota_exceeded',
    `${message} (tenant ${tenant}'s quota ${quota})`,
    { tenant, quota, limit },
    headers,
  );
}

const secondsToUtcMidnight = () => {
  const now = new Date();
  return Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000);
};

/** How long a tenant whose backlog is full is asked to wait before trying again. */
const BACKLOG_RETRY_SECONDS = 30;

/**
 * Before the upload is read: a declared body over `bytesPerJob`, a backlog already full, or
 * the day's documents used up are refused at once — the client does not send what would
 * be refused.
 */
export function refuseOverQuota(ring: Pick<KeyRing, 'quotasOf'>, store: BatchStore): RequestHandler {
  return async (req, res, next) => {
    try {
      const { tenant } = principalOf(res);
      const quotas = ring.quotasOf(tenant);
      const declared = Number(req.get('content-length') ?? 0);
      if (quotas.bytesPerJob !== undefined && declared > quotas.bytesPerJob)
        throw await overQuota(
          store,
          tenant,
          'bytesPerJob',
          quotas.bytesPerJob,
          `the upload is ${declared} bytes, over ${quotas.bytesPerJob} per job`,
        );
      await checkBacklog(store, tenant, quotas, 1);
      if (quotas.documentsPerDay !== undefined && (await store.today(tenant)) >= quotas.documentsPerDay)
        throw await overQuota(
          store,
          tenant,
          'documentsPerDay',
          quotas.documentsPerDay,
          `${quotas.documentsPerDay} documents were accepted today`,
          secondsToUtcMidnight(),
        );
      next();
    } catch (err) {
      next(err);
    }
  };
}

async function checkBacklog(store: BatchStore, tenant: string, quotas: Quotas, adding: number): Promise<void> {
  if (quotas.backlogDocuments === undefined) return;
  const open = await store.tenantLoad(tenant);
  if (open + adding > quotas.backlogDocuments)
    throw await overQuota(
      store,
      tenant,
      'backlogDocuments',
      quotas.backlogDocuments,
      `${open} documents are accepted and not ended; ${adding} more would pass ${quotas.backlogDocuments}`,
      BACKLOG_RETRY_SECONDS,
    );
}

/**
 * After the upload: the job's documents and bytes, the backlog with them, and today's
 * documents — taken now, so concurrent submits cannot both pass. Returns what gives
 * today's documents back should the submit be refused after this.
 */
export async function admitWithinQuotas(
  store: BatchStore,
  tenant: string,
  quotas: Quotas,
  files: readonly { size: number }[],
): Promise<() => Promise<void>> {
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  if (quotas.documentsPerJob !== undefined && files.length > quotas.documentsPerJob)
    throw await overQuota(
      store,
      tenant,
      'documentsPerJob',
      quotas.documentsPerJob,
      `${files.length} documents, over ${quotas.documentsPerJob} per job`,
    );
  if (quotas.bytesPerJob !== undefined && bytes > quotas.bytesPerJob)
    throw await overQuota(store, tenant, 'bytesPerJob', quotas.bytesPerJob, `${bytes} bytes of documents, over ${quotas.bytesPerJob} per job`);
  await checkBacklog(store, tenant, quotas, files.length);
  const taken = await store.takeToday(tenant, files.length, quotas.documentsPerDay);
  if (taken === null)
    throw await overQuota(
      store,
      tenant,
      'documentsPerDay',
      quotas.documentsPerDay!,
      `${files.length} more documents would pass ${quotas.documentsPerDay} accepted today`,
      secondsToUtcMidnight(),
    );
  return () => store.giveBack(tenant, files.length);
}
