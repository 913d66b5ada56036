import { FINAL_TASK_STATUSES, RetryableError, stepsBefore, type StepName, type StepPayload, type StepResults } from '@docproc/catalog';
import type { BatchStore } from '@docproc/batches';
import { blobKeys, getJson, type BlobStore } from '@docproc/storage';
import type { StepContext } from './step-worker';

/**
 * How a paged step (PAGED_STEPS) runs page by page: each page's job runs
 * `page` (ctx.payload.page says which); the job that finishes the last page
 * puts the pages' results together with `combine`, and the chain goes on.
 */
export interface PageWork<S extends StepName, P = unknown> {
  page(ctx: StepContext): Promise<P>;
  combine(ctx: StepContext, pages: P[]): Promise<StepResults[S]>;
}

/** How long the job that read a document's last page waits for the step before to record itself. */
const PREVIOUS_STEP_WAIT_MS = 120_000;

/**
 * Runs one page of a paged step: skipped when its document already ended
 * (failed, cancelled); its result kept in the blob store; counted. The job
 * that counts the last page gets the combined result and when the step's
 * first page started; the others undefined.
 */
export function pagedRunner<S extends StepName>(deps: { step: S; store: BatchStore; blobs: BlobStore; work: PageWork<S> }) {
  const { step, store, blobs, work } = deps;

  /** Waits until the step before this one is recorded as completed; false when the document ended meanwhile. */
  async function previousStepRecorded(payload: StepPayload): Promise<boolean> {
    const previous = stepsBefore(payload.pipeline, step).at(-1);
    if (!previous) return true;
    const deadline = Date.now() + PREVIOUS_STEP_WAIT_MS;
    for (;;) {
      const [status, document] = await Promise.all([store.stepStatus(payload.documentId, previous), store.documentStatus(payload.documentId)]);
      if (status === 'completed') return true;
      if (document !== null && FINAL_TASK_STATUSES.includes(document)) return false;
      if (Date.now() > deadline) throw new RetryableError(`the ${previous} step of the document has not ended`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return async function runPage(
    ctx: StepContext,
    page: NonNullable<StepPayload['page']>,
    startedAt: number,
  ): Promise<{ result: StepResults[S]; startedAt: number } | undefined> {
    const { batchId, documentId } = ctx.payload;
    const before = await store.documentStatus(documentId);
    if (before !== null && FINAL_TASK_STATUSES.includes(before)) {
      ctx.logger.info('document already ended: page skipped', { page: page.index, status: before });
      return undefined;
    }
    const result = await work.page(ctx);
    await blobs.put(blobKeys.pageResult(batchId, documentId, step, page.index), JSON.stringify(result));
    const progress = await store.recordPageDone(documentId, step, page.index, startedAt);
    if (progress.done < page.count || FINAL_TASK_STATUSES.includes(progress.documentStatus)) return undefined;
    // Pages handed on early can all be read before the step that made them has recorded
    // itself (a PDF of text-layer pages): the document must not move on past a step still open.
    if (page.source && !(await previousStepRecorded(ctx.payload))) return undefined;
    const pages = await Promise.all(
      Array.from({ length: page.count }, (_, index) => getJson(blobs, blobKeys.pageResult(batchId, documentId, step, index))),
    );
    return { result: await work.combine(ctx, pages), startedAt: progress.firstStartedAt };
  };
}
