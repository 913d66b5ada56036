import type { PreprocessPage, StepName, StepPayload, StepResults } from '@docproc/catalog';
import type { BlobStore } from '@docproc/storage';
import type { Logger } from 'winston';

/** What a step's processor gets: its payload, the earlier steps' results, where to put bytes, and when to stop. */
export interface StepContext {
  payload: StepPayload;
  /** The result of an earlier step of this document, read when asked; undefined when it is not in the pipeline. */
  resultOf<E extends StepName>(step: E): Promise<StepResults[E] | undefined>;
  blobs: BlobStore;
  logger: Logger;
  /**
   * Aborted when the task must stop: its batch was cancelled (reason: CancelledError) or
   * it ran past its time limit (StepTimeoutError). Long work checks it between pages and
   * hands it to whatever runs elsewhere (a PDF thread, an OCR engine) so that stops too.
   */
  signal: AbortSignal;
  /** Reports progress (0-100) to BullMQ, for Bull Board and task progress. */
  progress(percent: number): Promise<void>;
  /**
   * Hands one finished page (of `count`) on to the next step at once when that
   * step runs page by page (OCR), so it starts before this step ends; a no-op
   * otherwise. Preprocessing calls it for each page it stored. Throws the
   * abort reason once the task was told to stop.
   */
  pageReady(page: PreprocessPage, count: number): Promise<void>;
}

export type StepProcessor<S extends StepName> = (ctx: StepContext) => Promise<StepResults[S]>;

/**
 * How a paged step (PAGED_STEPS) runs page by page: each page's task runs
 * `page` (ctx.payload.page says which); once every page is done and the step
 * before has ended, `combine` puts the pages' results together and the chain
 * goes on.
 */
export interface PageWork<S extends StepName, P = unknown> {
  page(ctx: StepContext): Promise<P>;
  combine(ctx: StepContext, pages: P[]): Promise<StepResults[S]>;
}
