import { Router } from 'express';
import { readStepResult } from '@docproc/batches';
import type { Layout } from '@docproc/catalog';
import { chunksOf, readLayout, tableCsv, tablesOf, toMarkdown } from '@docproc/layout';
import { BlobNotFoundError } from '@docproc/storage';
import type { AppDeps } from './deps';
import { badRequest, batchOr404, documentOr404, notFound } from './http-error';

/** Chunks of this many tokens unless `maxTokens` says otherwise (a common size for retrieval). */
const DEFAULT_CHUNK_TOKENS = 512;

/** A file name for what is made of the document: its own name with another extension. */
export const renamed = (name: string, extension: string) => `${name.replace(/\.[A-Za-z0-9]{1,5}$/, '')}.${extension}`;

/**
 * A document's structure (options.output "layout"): the layout itself, and what is made
 * of it on request — Markdown, tables (JSON, or one as CSV), chunks for retrieval.
 */
export function structureRoutes(deps: AppDeps): Router {
  const { store, blobs } = deps;
  const router = Router();

  async function layoutOf(id: string, documentId: string): Promise<{ layout: Layout; name: string }> {
    const batch = await batchOr404(store, id);
    const doc = await documentOr404(store, batch, documentId);
    const ocr = doc.steps.ocr ? await readStepResult<'ocr'>(blobs, doc.steps.ocr) : undefined;
    if (!ocr) throw notFound(`document ${doc.id} has no OCR result yet`);
    if (!ocr.layoutKey) throw notFound(`document ${doc.id} has no layout: submit with options {"output": ["layout"]}`);
    try {
      return { layout: await readLayout(blobs, ocr.layoutKey), name: doc.name };
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw notFound('the stored layout is gone (expired or deleted)');
      throw err;
    }
  }

  const base = '/:id/documents/:documentId';
  router.get(`${base}/layout`, async (req, res) => {
    res.json((await layoutOf(req.params.id, req.params.documentId)).layout);
  });

  router.get(`${base}/markdown`, async (req, res) => {
    const { layout, name } = await layoutOf(req.params.id, req.params.documentId);
    res.type('text/markdown; charset=utf-8').set('Content-Disposition', `inline; filename="${encodeURIComponent(renamed(name, 'md'))}"`);
    res.send(toMarkdown(layout));
  });

  router.get(`${base}/tables`, async (req, res) => {
    res.json({ tables: tablesOf((await layoutOf(req.params.id, req.params.documentId)).layout) });
  });

  router.get(`${base}/tables/:n`, async (req, res) => {
    const n = Number(req.params.n);
    if (!Number.isInteger(n) || n < 0) throw badRequest('the table number is a whole number from 0');
    const format = req.query.format ?? 'json';
    if (format !== 'json' && format !== 'csv') throw badRequest('"format" is json or csv');
    const { layout, name } = await layoutOf(req.params.id, req.params.documentId);
    const tables = layout.pages.flatMap((page) => page.blocks.flatMap((b) => (b.table ? [b.table] : [])));
    if (n >= tables.length) throw notFound(`the document has ${tables.length} table(s); numbers run from 0`);
    if (format === 'json') return void res.json(tablesOf(layout)[n]);
    res.type('text/csv; charset=utf-8').attachment(renamed(name, `table-${n + 1}.csv`));
    res.send(tableCsv(tables[n]!));
  });

  router.get(`${base}/chunks`, async (req, res) => {
    const raw = req.query.maxTokens;
    const maxTokens = raw === undefined ? DEFAULT_CHUNK_TOKENS : Number(raw);
    if (!Number.isInteger(maxTokens) || maxTokens < 16 || maxTokens > 100_000) throw badRequest('"maxTokens" is a whole number from 16 to 100000');
    const { layout } = await layoutOf(req.params.id, req.params.documentId);
    res.json({ maxTokens, chunks: chunksOf(layout, maxTokens) });
  });

  return router;
}
