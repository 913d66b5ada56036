import type { ErrorRequestHandler } from 'express';
import type { BatchRecord, DocumentRecord } from '@docproc/batches';
import { shortageOf, type Logger } from '@docproc/runtime';

/** An error with an HTTP status and a stable code, answered as `{ error: { code, message, details? } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'bad_request', message, details);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const redisUnavailable = () =>
  new HttpError(503, 'unavailable', 'the job store is not reachable; try again shortly', undefined, { 'Retry-After': '5' });

/** The batch of a route's `:id`, or a 404 that names it. */
export async function batchOr404(store: { getBatch(id: string): Promise<BatchRecord | null> }, id: string): Promise<BatchRecord> {
  const batch = await store.getBatch(id);
  if (!batch) throw notFound(`no job ${id}`);
  return batch;
}

/** The document of a route's `:documentId` in that batch, or a 404 that names it. */
export async function documentOr404(
  store: { getDocument(id: string): Promise<DocumentRecord | null> },
  batch: BatchRecord,
  documentId: string,
): Promise<DocumentRecord> {
  const doc = await store.getDocument(documentId);
  if (!doc || doc.batchId !== batch.id) throw notFound(`no document ${documentId} in job ${batch.id}`);
  return doc;
}

/** ioredis errors that mean Redis cannot be reached (as opposed to a bug). */
function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  return (
    e?.name === 'MaxRetriesPerRequestError' || e?.code === 'ECONNREFUSED' || /Connection is closed|Stream isn't writeable/.test(e?.message ?? '')
  );
}

/** The last middleware: every error becomes a JSON body; unexpected ones are logged and hidden. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let error: HttpError;
    if (err instanceof HttpError) error = err;
    else if (err?.type === 'entity.parse.failed') error = badRequest('the request body is not valid JSON');
    else if (shortageOf(err) === 'store_full') {
      logger.warn('Redis is out of memory', { method: req.method, path: req.path });
      error = new HttpError(503, 'store_full', 'the job store is out of memory (maxmemory): nothing can be written; try again later', undefined, {
        'Retry-After': '30',
      });
    } else if (shortageOf(err) === 'storage_full') {
      logger.warn('the data disk is full', { method: req.method, path: req.path });
      error = new HttpError(507, 'storage_full', 'the document store is out of space; try again later', undefined, { 'Retry-After': '60' });
    } else if (isRedisUnavailable(err)) {
      logger.warn('Redis unavailable', { method: req.method, path: req.path, error: (err as Error).message });
      error = redisUnavailable();
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500)
      error = new HttpError(err.status, 'bad_request', err.message);
    else {
      logger.error('request failed', { method: req.method, path: req.path, error: (err as Error)?.message });
      error = new HttpError(500, 'internal', 'internal error');
    }
    res
      .status(error.status)
      .set(error.headers)
      .json({
        error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) },
      });
  };
}
