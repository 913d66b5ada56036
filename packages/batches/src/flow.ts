import type { FlowJob, FlowProducer } from 'bullmq';
import { STEP_JOB_OPTIONS, queueName, toQueuePriority, type JobOptions, type StepName, type StepPayload } from '@docproc/catalog';
import type { NewBatch, NewDocument } from './records';

/** BullMQ job id of one step of one document: stable, so a step is never queued twice. */
export function stepJobId(documentId: string, step: StepName): string {
  return `${documentId}.${step}`;
}

/**
 * One document's task chain as a BullMQ flow: the last step is the root and
 * each step is the child of the next, so the first step runs first and each
 * parent runs once its child completed. A failed step fails the steps above
 * it (failParentOnFailure), so a document fails alone and its batch goes on.
 */
export function documentFlow(batch: Pick<NewBatch, 'id' | 'priority' | 'pipeline' | 'options'>, doc: NewDocument): FlowJob {
  let flow: FlowJob | undefined;
  for (const step of batch.pipeline) {
    const data: StepPayload = {
      batchId: batch.id,
      documentId: doc.id,
      step,
      pipeline: batch.pipeline,
      name: doc.name,
      blobKey: doc.blobKey,
      options: batch.options as JobOptions,
    };
    flow = {
      name: step,
      queueName: queueName(step),
      data,
      opts: {
        ...STEP_JOB_OPTIONS[step],
        jobId: stepJobId(doc.id, step),
        priority: toQueuePriority(batch.priority),
        failParentOnFailure: true,
      },
      children: flow ? [flow] : undefined,
    };
  }
  if (!flow) throw new Error('a pipeline needs at least one step');
  return flow;
}

/** Queues every document's chain in one atomic call. */
export async function enqueueBatch(producer: FlowProducer, batch: NewBatch): Promise<void> {
  if (batch.documents.length === 0) return;
  await producer.addBulk(batch.documents.map((doc) => documentFlow(batch, doc)));
}
