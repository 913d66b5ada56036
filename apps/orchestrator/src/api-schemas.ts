import { z } from 'zod';
import {
  chunkSchema,
  layoutSchema,
  tableExportSchema,
  BATCH_STATUSES,
  QUOTAS,
  WEBHOOK_EVENTS,
  TASK_STATUSES,
  classifierRequestSchema,
  documentErrorSchema,
  rulesetRequestSchema,
  failedAttemptSchema,
  jobOptionsSchema,
  nlpResultSchema,
  ocrResultSchema,
  preprocessResultSchema,
  stepNameSchema,
  validateResultSchema,
} from '@docproc/catalog';

/**
 * The bodies the HTTP API answers with, as zod schemas: the views are typed by
 * them, and /openapi.json is generated from them and the catalog's schemas the
 * API validates with (job options, step results), so the document cannot drift
 * from the code. API_BODIES names them as components.schemas.
 */

/** A schema with what a reader of the document sees of it. */
function described<T extends z.ZodType>(schema: T, meta: { description?: string; examples?: unknown[] }): T {
  return schema.meta(meta) as T;
}

const timestamp = z.string().meta({ format: 'date-time' });
const status = z.enum(BATCH_STATUSES);
const taskStatus = z.enum(TASK_STATUSES);

const errorBodySchema = described(
  z.object({
    error: z.object({
      code: z.string().meta({ description: 'stable, e.g. bad_request, unauthorized, not_found, conflict, too_large, busy, not_ready, internal' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  }),
  { description: 'Every 4xx and 5xx answer.', examples: [{ error: { code: 'not_found', message: 'no job 4f9c0d7e' } }] },
);

const submittedSchema = described(z.object({ id: z.string(), status: z.literal('queued'), totalDocuments: z.number().int(), createdAt: timestamp }), {
  examples: [{ id: '0b0f8c7e-2a7b-4f43-9a55-5d6f3c1f0a11', status: 'queued', totalDocuments: 2, createdAt: '2026-11-24T09:00:00.000Z' }],
});

const auditEntrySchema = z.object({
  action: z.enum(['submitted', 'cancelled', 'retried', 'reviewed']),
  tenant: z.string(),
  key: z.string().meta({ description: 'the id of the API key (never the key)' }),
  at: timestamp,
  document: z.string().optional().meta({ description: 'the document reviewed' }),
});

const batchSchema = described(
  z.object({
    id: z.string(),
    tenant: z.string().meta({ description: 'whose job it is: only its keys (and administrators) see it' }),
    status,
    priority: z.number().int().min(-10).max(10),
    pipeline: z.array(stepNameSchema),
    progress: z.object({
      total: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
      percent: z.number().int().min(0).max(100),
    }),
    reviews: z
      .object({ waiting: z.number().int(), approved: z.number().int(), rejected: z.number().int() })
      .meta({ description: 'documents validation sent to review: waiting, and the decisions taken' }),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    audit: z.array(auditEntrySchema).optional().meta({ description: 'who did what to the job, oldest first (GET /v1/jobs/{id} only)' }),
  }),
  {
    description: 'A batch of documents (a job) and its progress.',
    examples: [
      {
        id: '0b0f8c7e-2a7b-4f43-9a55-5d6f3c1f0a11',
        tenant: 'acme',
        status: 'running',
        priority: 0,
        pipeline: ['preprocess', 'ocr', 'nlp', 'validate'],
        progress: { total: 2, completed: 1, failed: 0, cancelled: 0, percent: 50 },
        reviews: { waiting: 0, approved: 0, rejected: 0 },
        createdAt: '2026-11-24T09:00:00.000Z',
        startedAt: '2026-11-24T09:00:00.120Z',
        finishedAt: null,
      },
    ],
  },
);
export type BatchBody = z.infer<typeof batchSchema>;

const batchListSchema = z.object({
  jobs: z.array(batchSchema),
  nextCursor: z.string().nullable().meta({ description: 'pass as ?cursor= for the next page; null on the last' }),
});

const retriedSchema = batchSchema.extend({ retried: z.number().int().meta({ description: 'documents sent round again' }) });

/** OCR pages leave their words out unless asked (`?include=words`). */
const ocrInResultsSchema = ocrResultSchema.extend({
  pages: z.array(ocrResultSchema.shape.pages.element.partial({ words: true })),
});
const nlpInResultsSchema = nlpResultSchema.partial({ tokens: true });

const reviewSchema = z.object({
  status: z.enum(['waiting', 'approved', 'rejected']),
  reviewer: z.string().optional(),
  note: z.string().optional(),
  fields: z.record(z.string(), z.string()).optional().meta({ description: 'the extracted fields as the reviewer left them' }),
  at: timestamp.optional(),
});

/** POST /v1/jobs/:id/documents/:documentId/review. */
export const reviewRequestSchema = described(
  z.strictObject({
    decision: z.enum(['approve', 'reject']),
    note: z.string().max(10_000).default(''),
    /** Corrections to the extracted fields; those not named keep validation's value. */
    fields: z.record(z.string().min(1).max(200), z.string().max(10_000)).default({}),
    reviewer: z.string().min(1).max(200).default('anonymous'),
  }),
  { examples: [{ decision: 'approve', note: 'total checked against the scan', fields: { total: '1234.50' }, reviewer: 'anne' }] },
);

const reviewRecordedSchema = z.object({ documentId: z.string(), review: reviewSchema, job: batchSchema });
export type ReviewRecordedBody = z.infer<typeof reviewRecordedSchema>;

const waitingReviewSchema = z.object({
  jobId: z.string(),
  documentId: z.string(),
  name: z.string(),
  since: timestamp,
  reasons: validateResultSchema.shape.reasons,
  fields: z.record(z.string(), z.string()),
});

const documentSchema = z.object({
  documentId: z.string(),
  name: z.string(),
  status: taskStatus,
  current: z.object({
    step: stepNameSchema.nullable().meta({ description: 'the step the document is in; null once it ended' }),
    pages: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  }),
  steps: z
    .object({
      preprocess: preprocessResultSchema.nullable(),
      ocr: ocrInResultsSchema.nullable(),
      nlp: nlpInResultsSchema.nullable(),
      validate: validateResultSchema.nullable(),
    })
    .partial()
    .meta({ description: 'each step of the pipeline: its result, or null until it completed' }),
  error: documentErrorSchema.nullable(),
  review: reviewSchema.nullable().meta({ description: 'null unless validation sent the document to review' }),
  batchKeyTerms: z
    .array(z.object({ term: z.string(), score: z.number() }))
    .optional()
    .meta({
      description: 'once a job with an NLP step ended: the terms that set this document apart from the rest of its job (TF-IDF over the job)',
    }),
});
export type DocumentBody = z.infer<typeof documentSchema>;

const resultsSchema = z.object({
  id: z.string(),
  status,
  successful: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  documents: z.array(documentSchema),
  nextCursor: z.string().nullable(),
});

const taskRecordSchema = z.object({
  status: taskStatus,
  attempts: z.number().int(),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  pages: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
});

const fullDocumentSchema = described(
  documentSchema.extend({
    batchId: z.string(),
    size: z.number().int(),
    retries: z.number().int(),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    tasks: z.partialRecord(stepNameSchema, taskRecordSchema.nullable()).meta({ description: 'each step as a task: status, attempts, times' }),
    failedAttempts: z.array(failedAttemptSchema),
  }),
  { description: 'One document whole: every step result with words and tokens, its tasks and its error history.' },
);
export type FullDocumentBody = z.infer<typeof fullDocumentSchema>;

const statsSchema = described(
  z.object({
    at: timestamp,
    workers: z.array(
      z.object({
        id: z.string(),
        pool: z.string(),
        pid: z.number().int(),
        host: z.string(),
        concurrency: z.number().int(),
        processed: z.number().int(),
        failed: z.number().int(),
        active: z.number().int(),
        currentTasks: z.array(z.string()),
        startedAt: timestamp,
        lastHeartbeat: timestamp,
        rssBytes: z.number().int(),
        cpuSeconds: z.number(),
        eventLoopLagSeconds: z.number().meta({ description: 'the longest its event loop waited to run a callback between its last two heartbeats' }),
      }),
    ),
    queues: z.record(
      z.string(),
      z.object({
        waiting: z.number().int(),
        prioritized: z.number().int(),
        active: z.number().int(),
        delayed: z.number().int(),
        due: z.number().int().meta({ description: 'delayed tasks whose time has come (waiting too)' }),
        failed: z.number().int(),
        oldestWaitingSeconds: z.number(),
      }),
    ),
    totals: z.object({
      tasks: z.record(z.string(), z.record(z.string(), z.number().int())).meta({ description: 'step → outcome → count' }),
      pages: z.record(z.string(), z.number().int()),
      documents: z.record(z.string(), z.number().int()),
      batches: z.record(z.string(), z.number().int()),
    }),
    limits: z.record(z.string(), z.unknown()),
    tenants: z
      .record(
        z.string(),
        z.object({
          backlogDocuments: z.number().int().meta({ description: 'documents accepted and not ended' }),
          documentsToday: z.number().int().meta({ description: 'documents accepted today (UTC)' }),
          quotas: z.partialRecord(z.enum(QUOTAS), z.number().int()).meta({ description: "the tenant's quotas (none: no limit of its own)" }),
          refusals: z.record(z.string(), z.number().int()).meta({ description: 'submits refused, by quota' }),
        }),
      )
      .meta({ description: 'each tenant the keys file names or that has work' }),
    autoscaler: z
      .object({
        backend: z.enum(['local', 'kubernetes', 'dry-run']),
        at: timestamp,
        intervalSeconds: z.number(),
        stale: z.boolean().meta({ description: 'no look for three intervals: the autoscaler is not running' }),
        pools: z.partialRecord(
          stepNameSchema,
          z.object({
            actual: z.number().int(),
            desired: z.number().int(),
            recommended: z.number().int().meta({ description: 'what the measured need alone asked for' }),
            min: z.number().int(),
            max: z.number().int(),
            kind: z.enum(['up', 'down', 'steady', 'held']),
            reason: z.string(),
            restarts: z.number().int().optional(),
            draining: z.number().int().optional(),
            error: z.string().optional().meta({ description: "the backend's error in applying the decision" }),
            signals: z.object({
              backlog: z.number().int(),
              active: z.number().int(),
              oldestWaitSeconds: z.number(),
              incoming: z.number().int(),
              arrivalsPerSecond: z.number().nullable(),
              completionsPerSecond: z.number().nullable(),
              meanTaskSeconds: z.number().nullable(),
              errorRate: z.number().nullable(),
              workerRssBytes: z.number().nullable(),
              workerCpuCores: z.number().nullable(),
            }),
          }),
        ),
      })
      .nullable()
      .meta({ description: "The autoscaler's latest decision per pool, with its inputs and reason (null before its first look)." }),
  }),
  { description: 'The platform: live workers (from heartbeats), queues, totals since Redis was new, limits, the autoscaler.' },
);
export type StatsBody = z.infer<typeof statsSchema>;

const jobOptionsBodySchema = described(jobOptionsSchema, {
  description: 'Per-job options; an unknown key is refused.',
  examples: [{ languages: ['eng'], minConfidence: 70, timeouts: { ocr: 60000 } }],
});

const classifierRequestBodySchema = described(classifierRequestSchema, {
  description: "A classifier to store: natural's Bayes (default) or logistic regression, learned from example texts per label.",
  examples: [
    { name: 'kinds', algorithm: 'bayes', labels: { invoice: ['Invoice 12, amount due 300 USD'], letter: ['Dear Sir, thank you for your letter'] } },
  ],
});

const classifierSchema = described(
  z.object({
    name: z.string(),
    algorithm: z.enum(['bayes', 'logistic']),
    labels: z.record(z.string(), z.number().int()).meta({ description: 'examples per label' }),
    createdAt: timestamp,
  }),
  { description: 'A stored classifier (its examples counted, not repeated).' },
);

const rulesetBodySchema = described(rulesetRequestSchema, {
  description: 'A named rule set for options.validate.ruleset.',
  examples: [
    {
      name: 'invoices',
      rules: [
        { kind: 'regex', pattern: 'Invoice (?<invoiceNumber>\\S+)' },
        { kind: 'entities', require: { date: 1 }, severity: 'soft' },
      ],
    },
  ],
});

const storedRulesetSchema = described(z.object({ ...rulesetRequestSchema.shape, createdAt: timestamp }), {
  description: 'A stored rule set, as the API answers it.',
});

// The events of GET /v1/jobs/{id}/events: each SSE event's `data` (its `event:` line names it).
const eventCounts = { total: z.number().int(), completed: z.number().int(), failed: z.number().int(), cancelled: z.number().int() };
const documentEventSchema = z.object({
  document: z.string(),
  status: z.enum([...TASK_STATUSES]),
  code: z.string().optional().meta({ description: "the document's error code, when it failed" }),
  ...eventCounts,
  at: timestamp,
});
const taskRunFields = {
  document: z.string(),
  step: stepNameSchema,
  attempt: z.number().int(),
  worker: z.string().optional(),
  queued: timestamp.optional().meta({ description: 'when the task was queued' }),
  at: timestamp,
};
export const JOB_EVENTS = {
  snapshot: { schema: 'Job', description: 'the job as it stands: first, to a new client or one whose Last-Event-ID is too old' },
  batch: {
    schema: 'JobEventBatch',
    description: 'the job changed status',
    body: z.object({ status, ...eventCounts, at: timestamp }),
  },
  document: { schema: 'JobEventDocument', description: 'a document changed status (queued again on retry, or ended)', body: documentEventSchema },
  step: {
    schema: 'JobEventStep',
    description: "a document's step started or ended",
    body: z.object({ ...taskRunFields, status: z.enum([...TASK_STATUSES]) }),
  },
  page: {
    schema: 'JobEventPage',
    description: 'a page of a paged step (OCR) started, or was done',
    body: z.object({
      ...taskRunFields,
      attempt: z.number().int().optional(),
      page: z.number().int(),
      status: z.enum(['running', 'completed']),
      done: z.number().int().optional().meta({ description: 'pages of the step done' }),
      count: z.number().int().optional().meta({ description: 'pages of the step' }),
    }),
  },
  task: {
    schema: 'JobEventTask',
    description: 'a task attempt ended: its worker and times (the batch page timeline)',
    body: z.object({
      ...taskRunFields,
      page: z.number().int().optional(),
      status: z.string(),
      started: timestamp.optional(),
    }),
  },
  review: {
    schema: 'JobEventReview',
    description: 'a document began to wait for review, or was decided',
    body: z.object({ document: z.string(), status: z.enum(['waiting', 'approved', 'rejected']), reviewer: z.string().optional(), at: timestamp }),
  },
  end: {
    schema: 'JobEventEnd',
    description: 'the job ended (or was deleted): the stream closes',
    body: z.object({ id: z.string(), status: z.union([status, z.literal('deleted')]) }),
  },
} as const;
const jobEventBodies = Object.fromEntries(
  Object.values(JOB_EVENTS).flatMap((event) => ('body' in event ? [[event.schema, event.body]] : [])),
) as Record<string, z.ZodType>;

/**
 * The request bodies by their names in the OpenAPI document, described as a client sends
 * them: a field the server fills in when left out (a default) is optional.
 */
export const API_REQUESTS = {
  JobOptions: jobOptionsBodySchema,
  ReviewRequest: reviewRequestSchema,
  ClassifierRequest: classifierRequestBodySchema,
  RulesetRequest: rulesetBodySchema,
};

const webhookDeliverySchema = described(
  z.object({
    id: z.string().meta({ description: 'the webhook-id header of every try' }),
    event: z.enum(WEBHOOK_EVENTS),
    url: z.string(),
    status: z
      .enum(['pending', 'delivered', 'failed'])
      .meta({ description: 'pending: being tried; delivered: a 2xx came back; failed: every try failed' }),
    createdAt: timestamp,
    attempts: z.array(
      z.object({
        at: timestamp,
        status: z.number().int().optional().meta({ description: "the receiver's HTTP status" }),
        error: z.string().optional(),
        ms: z.number().int(),
      }),
    ),
  }),
  { description: 'A webhook delivery of one event of the job, and its tries.' },
);

/** Every response body schema by the name it has in the OpenAPI document, as the server answers. */
export const API_BODIES = {
  Layout: layoutSchema,
  Table: tableExportSchema,
  TableList: z.object({ tables: z.array(tableExportSchema) }),
  ChunkList: z.object({ maxTokens: z.number().int(), chunks: z.array(chunkSchema) }),
  WebhookDelivery: webhookDeliverySchema,
  WebhookDeliveryList: z.object({ deliveries: z.array(webhookDeliverySchema) }),
  ...jobEventBodies,
  Error: errorBodySchema,
  Submitted: submittedSchema,
  Job: batchSchema,
  JobList: batchListSchema,
  Document: documentSchema,
  Results: resultsSchema,
  DocumentDetail: fullDocumentSchema,
  Stats: statsSchema,
  Retried: retriedSchema,
  ReviewRecorded: reviewRecordedSchema,
  ReviewList: z.object({ items: z.array(waitingReviewSchema), nextCursor: z.string().nullable() }),
  Classifier: classifierSchema,
  ClassifierList: z.object({
    items: z.array(classifierSchema).describe("the tenant's own"),
    shared: z.array(classifierSchema).describe('the shared ones every tenant reads (those its own do not replace)'),
  }),
  Ruleset: storedRulesetSchema,
  RulesetList: z.object({
    items: z.array(storedRulesetSchema).describe("the tenant's own"),
    shared: z.array(storedRulesetSchema).describe('the shared ones every tenant reads (those its own do not replace)'),
  }),
};
