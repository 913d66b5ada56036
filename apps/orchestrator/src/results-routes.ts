import { once } from 'node:events';
import { Router, type Response } from 'express';
import { readStepResult, type BatchRecord, type DocumentRecord } from '@docproc/batches';
import { BlobNotFoundError } from '@docproc/storage';
import { detectMediaType, type TaskStatus } from '@docproc/catalog';
import { batchKeyTerms } from './batch-terms';
import { renamed } from './structure-routes';
import type { AppDeps } from './deps';
import { badRequest, batchOr404, documentOr404 as documentOf, notFound } from './http-error';
import { cursorParam, documentStatusParam, formatParam, includeParam, limitParam, toCursor } from './query';
import { documentView, fullDocumentView, type Extra } from './views';

/** Documents read per Redis round trip while paging or streaming. */
const SCAN_CHUNK = 100;

/** The v1 results API: pages of documents, an NDJSON stream of all, one document whole, its stored bytes. */
export function resultsRoutes(deps: AppDeps): Router {
  const { store, blobs } = deps;
  const router = Router();

  const documentOr404 = (batch: BatchRecord, documentId: string) => documentOf(store, batch, documentId);

  /**
   * The batch's documents from position `from` on, `status` filtered, until `limit`
   * matched or the list ended; also the position to go on from (null at the end).
   */
  async function scan(batch: BatchRecord, from: number, limit: number, status: TaskStatus | undefined) {
    const total = await store.documentCount(batch.id);
    const found: DocumentRecord[] = [];
    let position = from;
    while (found.length < limit && position < total) {
      const ids = await store.getDocumentIds(batch.id, position, position + Math.max(limit, SCAN_CHUNK) - 1);
      for (const doc of await store.getDocuments(ids)) {
        position++;
        if (doc && (!status || doc.status === status)) found.push(doc);
        if (found.length === limit) break;
      }
      if (ids.length === 0) break;
    }
    return { documents: found, next: position < total ? position : null };
  }

  router.get('/:id/results', async (req, res) => {
    const include = includeParam(req.query);
    const status = documentStatusParam(req.query);
    const batch = await batchOr404(store, req.params.id);
    if (formatParam(req.query) === 'ndjson') return streamResults(res, batch, include, status);
    const limit = limitParam(req.query, 100, 1000);
    const cursor = cursorParam(req.query);
    if (cursor !== undefined && !/^\d+$/.test(cursor)) throw badRequest('"cursor" is not one this API gave');
    const { documents, next } = await scan(batch, Number(cursor ?? 0), limit, status);
    const keyTerms = await batchKeyTerms(deps, batch);
    res.json({
      id: batch.id,
      status: batch.status,
      successful: batch.completed,
      failed: batch.failed,
      cancelled: batch.cancelled,
      documents: await Promise.all(documents.map((doc) => documentView(blobs, batch.pipeline, doc, include, keyTerms))),
      nextCursor: next === null ? null : toCursor(String(next)),
    });
  });

  /** Every document, one JSON line each, read a chunk at a time and written as the client takes them. */
  async function streamResults(res: Response, batch: BatchRecord, include: Set<Extra>, status: TaskStatus | undefined): Promise<void> {
    const keyTerms = await batchKeyTerms(deps, batch);
    res.status(200).type('application/x-ndjson');
    let position: number | null = 0;
    while (position !== null && !res.destroyed) {
      const page: Awaited<ReturnType<typeof scan>> = await scan(batch, position, SCAN_CHUNK, status);
      for (const doc of page.documents) {
        if (!res.write(`${JSON.stringify(await documentView(blobs, batch.pipeline, doc, include, keyTerms))}\n`)) await once(res, 'drain');
      }
      position = page.next;
    }
    res.end();
  }

  router.get('/:id/documents/:documentId', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    const doc = await documentOr404(batch, req.params.documentId);
    res.json(await fullDocumentView(blobs, batch.pipeline, doc, await store.failedAttempts(doc.id)));
  });

  router.get('/:id/documents/:documentId/original', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    const doc = await documentOr404(batch, req.params.documentId);
    await sendBlob(res, doc.blobKey, doc.name);
  });

  router.get('/:id/documents/:documentId/pages/:index/hocr', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    const doc = await documentOr404(batch, req.params.documentId);
    const index = Number(req.params.index);
    if (!Number.isInteger(index) || index < 0) throw badRequest('the page index is a whole number from 0');
    const ocr = doc.steps.ocr ? await readStepResult<'ocr'>(blobs, doc.steps.ocr) : undefined;
    if (!ocr) throw notFound(`document ${doc.id} has no OCR result yet`);
    const page = ocr.pages.find((p) => p.index === index);
    if (!page) throw notFound(`document ${doc.id} has no page ${index}`);
    if (!page.hocrKey) throw notFound(`page ${index} has no hOCR: submit with options {"hocr": true}`);
    await sendBlob(res, page.hocrKey, `${doc.name}.page-${index + 1}.hocr`, 'text/html; charset=utf-8');
  });

  router.get('/:id/documents/:documentId/pdf', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    const doc = await documentOr404(batch, req.params.documentId);
    const ocr = doc.steps.ocr ? await readStepResult<'ocr'>(blobs, doc.steps.ocr) : undefined;
    if (!ocr) throw notFound(`document ${doc.id} has no OCR result yet`);
    if (!ocr.pdfKey) throw notFound(`document ${doc.id} has no searchable PDF: submit with options {"output": ["pdf"]}`);
    await sendBlob(res, ocr.pdfKey, renamed(doc.name, 'pdf'), 'application/pdf');
  });

  /** Streams a stored blob with its media type (from its bytes when not given) as a download named `name`. */
  async function sendBlob(res: Response, key: string, name: string, type?: string): Promise<void> {
    let size: number;
    try {
      size = await blobs.size(key);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw notFound('the stored file is gone (expired or deleted)');
      throw err;
    }
    const chunks: Buffer[] = [];
    if (size > 0) for await (const chunk of blobs.createReadStream(key, { start: 0, end: 64 * 1024 })) chunks.push(chunk as Buffer);
    const head = Buffer.concat(chunks);
    const mediaType = type ?? detectMediaType(head) ?? 'application/octet-stream';
    res.status(200).type(mediaType).set('Content-Length', String(size)).attachment(name);
    await new Promise<void>((resolve, reject) => {
      blobs.createReadStream(key).on('error', reject).pipe(res).on('finish', resolve).on('close', resolve);
    });
  }

  return router;
}
