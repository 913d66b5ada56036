import { FINAL_TASK_STATUSES, type StepName, type StepResults } from '@docproc/catalog';
import type { TaskLedger, TaskRun } from '@docproc/batches';
import { blobKeys, getJson, type BlobStore } from '@docproc/storage';
import type { PageWork, StepContext } from './step-context';

/**
 * How a paged step runs: each page task reads its page, keeps the page's
 * result in the blob store and counts it (PAGE_DONE). The pages are put
 * together by whoever comes last, without waiting: the task of the last page
 * when the step before had already ended, or else the step before itself,
 * which then queues a task to combine them (RECORD_STEP reports the pages
 * done). Both checks are atomic in Redis, so exactly one of them combines.
 */
export function pagedRunner<S extends StepName>(deps: { step: S; ledger: TaskLedger; blobs: BlobStore; work: PageWork<S> }) {
  const { step, ledger, blobs, work } = deps;

  /** The pages' results put together. */
  async function combine(ctx: StepContext, count: number): Promise<StepResults[S]> {
    const { batchId, documentId } = ctx.payload;
    const pages = await Promise.all(
      Array.from({ length: count }, (_, index) => getJson(blobs, blobKeys.pageResult(batchId, documentId, step, index))),
    );
    return work.combine(ctx, pages);
  }

  /** Reads one page; returns the combined result when this was the page that completes the step, else undefined. */
  async function runPage(ctx: StepContext, run: TaskRun, page: { index: number; count: number }): Promise<StepResults[S] | undefined> {
    const { batchId, documentId } = ctx.payload;
    const result = await work.page(ctx);
    ctx.signal.throwIfAborted();
    await blobs.put(blobKeys.pageResult(batchId, documentId, step, page.index), JSON.stringify(result));
    const progress = await ledger.pageDone(run);
    const ended = progress.documentStatus === null || FINAL_TASK_STATUSES.includes(progress.documentStatus);
    if (progress.done < page.count || ended || progress.stepStatus === 'completed' || progress.previousStepStatus !== 'completed') return undefined;
    return combine(ctx, page.count);
  }

  return { runPage, combine };
}
