import type { Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { StepQueues } from '@docproc/batches';
import { STEPS, deadLetterSchema, stepPayloadSchema, type StepPayload } from '@docproc/catalog';

export const BOARD_PATH = '/admin/queues';

const pageOf = (payload: Pick<StepPayload, 'page' | 'combine'>) =>
  payload.page
    ? `page ${payload.page.index + 1} of ${payload.page.count}`
    : payload.combine
      ? `${payload.combine.count} pages put together`
      : undefined;

/**
 * What Bull Board shows of a task instead of its raw payload: which document
 * (name and id), batch, step and page — never document text or the options a
 * job was given (they may hold a user's examples and rules).
 */
function readableTask(data: unknown) {
  const task = stepPayloadSchema.safeParse(data);
  if (task.success) {
    const { name, documentId, batchId, step, pipeline } = task.data;
    return { document: name, documentId, batch: batchId, step, page: pageOf(task.data), pipeline: pipeline.join(' → ') };
  }
  const letter = deadLetterSchema.safeParse(data);
  if (letter.success) {
    const { payload, batchId, documentId, step, taskId, attempts, deadAt } = letter.data;
    return {
      document: payload.name,
      documentId,
      batch: batchId,
      step,
      page: pageOf(payload),
      task: taskId,
      deadAt,
      attempts: attempts.map((a) => `${a.failedAt} attempt ${a.attempt}: ${a.code}: ${a.message} (${a.worker})`),
    };
  }
  return { unreadable: 'not a docproc task' };
}

function taskTitle(job: { name?: string; data?: unknown }): string {
  const task = readableTask(job.data);
  if (!('document' in task)) return job.name ?? '';
  return [task.step, task.document, task.page].filter(Boolean).join(' · ');
}

/**
 * Bull Board at /admin/queues: every step queue (page tasks are in the OCR queue,
 * one per page) and the dead-letter queue, with tasks shown by document, batch,
 * step and page. Read-only when `readOnly` (no retry, promote, clean or remove).
 */
export function boardRouter(queues: StepQueues, readOnly: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const adapter = (queue: ReturnType<StepQueues['get']>, description: string) => {
    const a = new BullMQAdapter(queue, { readOnlyMode: readOnly, allowRetries: !readOnly, description });
    a.setFormatter('data', readableTask);
    a.setFormatter('name', taskTitle);
    a.setFormatter('returnValue', (value: unknown) => value); // a blob key or null: no text
    return a;
  };
  createBullBoard({
    queues: [
      ...STEPS.map((step) =>
        adapter(queues.get(step), step === 'ocr' ? 'OCR: one task per page, then one that puts the pages together' : `the ${step} step`),
      ),
      adapter(queues.deadLetters(), 'tasks out of attempts, with every failure; POST /v1/jobs/:id/retry sends them round again'),
    ],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'docproc' } },
  });
  return serverAdapter.getRouter() as Router;
}
