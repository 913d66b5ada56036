import express, { Router } from 'express';
import { readStepResult, type DocumentRecord } from '@docproc/batches';
import { stepResultSchemas } from '@docproc/catalog';
import { reviewRequestSchema, type ReviewRecordedBody } from './api-schemas';
import { act, principalOf, sees } from './auth';
import type { AppDeps } from './deps';
import { HttpError, badRequest, batchOr404, notFound } from './http-error';
import { limitParam } from './query';
import { issuesOf } from './submission';
import { batchView } from './views';

/** Documents read per look while filtering the waiting list. */
const SCAN_CHUNK = 200;

async function validationOf(deps: AppDeps, doc: DocumentRecord) {
  const record = doc.steps.validate;
  const result = record?.status === 'completed' ? await readStepResult(deps.blobs, record) : undefined;
  return result === undefined ? null : stepResultSchemas.validate.parse(result);
}

/**
 * GET /v1/reviews: documents waiting for a person, oldest first, with why (the reasons)
 * and what was extracted; `job` and `rule` filter, `cursor` pages on.
 */
export function reviewsRoute(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const limit = limitParam(req.query, 50, 500);
    const job = typeof req.query.job === 'string' ? req.query.job : undefined;
    const rule = typeof req.query.rule === 'string' ? req.query.rule : undefined;
    let offset = typeof req.query.cursor === 'string' ? Number(req.query.cursor) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw badRequest('"cursor" must be the nextCursor of the page before');
    const items = [];
    const principal = principalOf(res);
    const tenants = new Map<string, string | null>();
    const seen = async (batchId: string) => {
      if (!tenants.has(batchId)) tenants.set(batchId, await deps.store.tenantOf(batchId));
      const tenant = tenants.get(batchId);
      return tenant !== null && tenant !== undefined && sees(principal, tenant);
    };
    for (;;) {
      const waiting = await deps.store.waitingReviews(offset, SCAN_CHUNK);
      const docs = await deps.store.getDocuments(waiting.map((w) => w.documentId));
      let taken = 0;
      for (const [i, entry] of waiting.entries()) {
        taken = i + 1;
        const doc = docs[i];
        if (!doc || (job && entry.batchId !== job) || !(await seen(entry.batchId))) continue;
        const validation = await validationOf(deps, doc);
        if (rule && !validation?.reasons.some((r) => r.rule === rule)) continue;
        items.push({
          jobId: entry.batchId,
          documentId: doc.id,
          name: doc.name,
          since: entry.since,
          reasons: validation?.reasons ?? [],
          fields: validation?.fields ?? {},
        });
        if (items.length === limit) break;
      }
      offset += taken;
      if (items.length === limit || waiting.length < SCAN_CHUNK) break;
    }
    const more = items.length === limit && (await deps.store.waitingReviews(offset, 1)).length > 0;
    res.json({ items, nextCursor: more ? String(offset) : null });
  });
  return router;
}

/**
 * POST /v1/jobs/:id/documents/:documentId/review: a person's decision on a document
 * validation sent to review — approve or reject, a note, corrected fields — recorded with
 * who and when; with the last one, a job that waited for its reviews ends.
 */
export function reviewDecisionRoute(deps: AppDeps): Router {
  const router = Router();
  router.post('/:id/documents/:documentId/review', express.json({ limit: '1mb' }), async (req, res) => {
    const parsed = reviewRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest('the review is not valid', issuesOf(parsed.error));
    const batch = await batchOr404(deps.store, req.params.id);
    const doc = await deps.store.getDocument(req.params.documentId);
    if (!doc || doc.batchId !== batch.id) throw notFound(`no document ${req.params.documentId} in job ${batch.id}`);
    const validation = await validationOf(deps, doc);
    const { decision, note, fields, reviewer } = parsed.data;
    const recorded = {
      decision: decision === 'approve' ? ('approved' as const) : ('rejected' as const),
      reviewer,
      note,
      fields: { ...(validation?.fields ?? {}), ...fields },
      at: new Date().toISOString(),
    };
    const { outcome } = await deps.store.recordReview(batch.id, doc.id, recorded);
    if (outcome === 'none') throw new HttpError(409, 'conflict', `document ${doc.id} does not wait for review: its validation did not ask for one`);
    if (outcome === 'cancelled') throw new HttpError(409, 'conflict', `job ${batch.id} was cancelled: its documents are not reviewed`);
    if (outcome !== 'recorded') throw new HttpError(409, 'conflict', `document ${doc.id} was already ${outcome}`);
    const entry = act(res, 'reviewed', doc.id);
    await deps.store.audit(batch.id, entry);
    deps.logger.info('review recorded', { batchId: batch.id, documentId: doc.id, decision: recorded.decision, by: entry.key, tenant: batch.tenant });
    const after = await batchOr404(deps.store, batch.id);
    const body: ReviewRecordedBody = {
      documentId: doc.id,
      review: { status: recorded.decision, reviewer, note, fields: recorded.fields, at: recorded.at },
      job: batchView(after),
    };
    res.json(body);
  });
  return router;
}
