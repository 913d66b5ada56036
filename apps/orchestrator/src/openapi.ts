import { z } from 'zod';
import { BATCH_STATUSES, STEPS, TASK_STATUSES, type Role } from '@docproc/catalog';
import { API_BODIES, API_REQUESTS, JOB_EVENTS } from './api-schemas';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string, description: string) => ({ description, content: { 'application/json': { schema: ref(id) } } });
const error = (description: string) => json('Error', description);
const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const query = (name: string, description: string, schema: object) => ({ name, in: 'query', required: false, description, schema });
const JOB_ID = path('id', 'the job id POST /v1/jobs answered');
const DOCUMENT_ID = path('documentId', 'a documentId from the results');
const NOT_FOUND = { '404': error('no such job (or document)') };

/**
 * Every operation's id and the roles it needs, one of them (an `admin` key holds them all;
 * none: open to all): the one table both the document states (`operationId`, `security`)
 * and the API enforces (access.ts reads it from the document). An operation missing here
 * stops the start.
 */
const OPERATIONS: Record<string, { id: string; roles: Role[] }> = {
  'POST /v1/jobs': { id: 'submitJob', roles: ['submit'] },
  'GET /v1/jobs': { id: 'listJobs', roles: ['read'] },
  'GET /v1/jobs/{id}': { id: 'getJob', roles: ['read'] },
  'DELETE /v1/jobs/{id}': { id: 'deleteJob', roles: ['submit'] },
  'POST /v1/jobs/{id}/cancel': { id: 'cancelJob', roles: ['submit'] },
  'POST /v1/jobs/{id}/retry': { id: 'retryJob', roles: ['submit'] },
  'GET /v1/jobs/{id}/results': { id: 'getResults', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}': { id: 'getDocument', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/original': { id: 'getOriginal', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/pages/{index}/hocr': { id: 'getPageHocr', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/pdf': { id: 'getSearchablePdf', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/layout': { id: 'getLayout', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/markdown': { id: 'getMarkdown', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/tables': { id: 'listTables', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/tables/{n}': { id: 'getTable', roles: ['read'] },
  'GET /v1/jobs/{id}/documents/{documentId}/chunks': { id: 'getChunks', roles: ['read'] },
  'GET /v1/jobs/{id}/events': { id: 'followJob', roles: ['read'] },
  'POST /v1/jobs/{id}/documents/{documentId}/review': { id: 'reviewDocument', roles: ['review'] },
  'GET /v1/reviews': { id: 'listReviews', roles: ['review'] },
  'GET /v1/jobs/{id}/webhooks': { id: 'listWebhookDeliveries', roles: ['read'] },
  'POST /v1/jobs/{id}/webhooks/{deliveryId}/redeliver': { id: 'redeliverWebhook', roles: ['submit'] },
  'POST /v1/classifiers': { id: 'storeClassifier', roles: ['submit'] },
  'GET /v1/classifiers': { id: 'listClassifiers', roles: ['read', 'submit'] },
  'GET /v1/classifiers/{name}': { id: 'getClassifier', roles: ['read', 'submit'] },
  'DELETE /v1/classifiers/{name}': { id: 'deleteClassifier', roles: ['submit'] },
  'POST /v1/rulesets': { id: 'storeRuleset', roles: ['submit'] },
  'GET /v1/rulesets': { id: 'listRulesets', roles: ['read', 'submit'] },
  'GET /v1/rulesets/{name}': { id: 'getRuleset', roles: ['read', 'submit'] },
  'DELETE /v1/rulesets/{name}': { id: 'deleteRuleset', roles: ['submit'] },
  'GET /api/stats': { id: 'getStats', roles: ['admin'] },
  'GET /metrics': { id: 'getMetrics', roles: ['metrics'] },
  'GET /healthz': { id: 'health', roles: [] },
  'GET /readyz': { id: 'ready', roles: [] },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
}

/**
 * Gives every operation its id and roles (the open ones `security: []`), the 401 and 403
 * answers of a guarded one, and the 408 every route may answer (headers too slow).
 */
function guard(paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>): void {
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const entry = OPERATIONS[`${method.toUpperCase()} ${path}`];
      if (!entry) throw new Error(`no operation ${method.toUpperCase()} ${path}: add it to OPERATIONS in openapi.ts`);
      operation.operationId = entry.id;
      operation.responses['408'] ??= error('the request (its headers, or an upload) arrived too slowly');
      if (entry.roles.length === 0) {
        operation.security = [];
        continue;
      }
      operation.security = [{ bearer: entry.roles }, { basic: entry.roles }];
      operation.responses['401'] ??= error('no or wrong API key');
      operation.responses['403'] = error(`the key holds none of the roles ${entry.roles.join(', ')}`);
    }
  }
}

/**
 * Drops what the generator adds that a reader does not need: each schema's own $schema
 * and $id (the document names its dialect once, components name the schemas), and the
 * safe-integer bounds zod gives every integer.
 */
function tidy(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(tidy);
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  delete schema.$schema;
  delete schema.$id;
  if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
  if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  Object.values(schema).forEach(tidy);
}

/**
 * The OpenAPI 3.1 document of the HTTP API: paths written here, every schema
 * generated from the zod schemas in api-schemas.ts (JSON Schema 2020-12, which
 * OpenAPI 3.1 uses as it is).
 */
export function openApiDocument(version: string) {
  // Requests as a client sends them (defaults optional), responses as the server answers.
  const jsonSchemas = (bodies: Record<string, z.ZodType>, io: 'input' | 'output') => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(bodies)) registry.add(schema, { id });
    return z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' }).schemas;
  };
  const schemas = { ...jsonSchemas(API_BODIES, 'output'), ...jsonSchemas(API_REQUESTS, 'input') };
  for (const schema of Object.values(schemas)) tidy(schema);
  const document = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'docproc',
      version,
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Submit batches of scans, PDFs and photos; follow them; read back text, language, entities and validation. ' +
        'With API keys set (DOCPROC_API_KEYS, DOCPROC_API_KEYS_FILE) every route but /healthz and /readyz needs ' +
        '`Authorization: Bearer <key>` (or HTTP Basic with the key as the password, for browsers), and the roles its ' +
        "`security` names; a key sees only its tenant's jobs, reviews and stored definitions (an `admin` key, every tenant's).",
    },
    servers: [{ url: '/', description: 'the orchestrator that serves this document' }],
    security: [{ bearer: [] }, { basic: [] }],
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key; the roles an operation lists are the ones it needs' },
        basic: { type: 'http', scheme: 'basic', description: 'any user name, an API key as the password' },
      },
    },
    paths: {
      '/v1/jobs': {
        post: {
          summary: 'Submit a batch of documents',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['files'],
                  properties: {
                    files: {
                      type: 'array',
                      items: { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' },
                      description: 'one or more documents',
                    },
                    pipeline: {
                      type: 'string',
                      description: `steps in order, comma-separated, from ${STEPS.join(', ')} (default: all)`,
                      examples: ['ocr,nlp'],
                    },
                    type: { type: 'string', enum: [...STEPS], description: 'one step alone (instead of pipeline)' },
                    priority: { type: 'integer', minimum: -10, maximum: 10, default: 0, description: 'higher runs first' },
                    options: ref('JobOptions'),
                  },
                },
                encoding: { options: { contentType: 'application/json' } },
              },
            },
          },
          responses: {
            '202': { ...json('Submitted', 'accepted: the documents are stored and queued'), headers: { Location: { schema: { type: 'string' } } } },
            '400': error('bad fields, unknown options, a language no OCR worker has, or a file the first step cannot read'),
            '401': error('no or wrong API key'),
            '413': error(
              "a file, the upload or the number of documents is over its limit, or over the tenant's quota (quota_exceeded, details.quota: documentsPerJob, bytesPerJob)",
            ),
            '408': error('the upload arrived slower than DOCPROC_MIN_UPLOAD_BYTES_PER_SECOND'),
            '429': {
              ...error(
                "the platform is busy (DOCPROC_MAX_BACKLOG), or the tenant's quota is used up for now (quota_exceeded, details.quota: backlogDocuments, documentsPerDay): try again after Retry-After seconds",
              ),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
            '503': {
              ...error(
                'Redis is not reachable, or the job did not reach DOCPROC_REDIS_MIN_REPLICAS replicas in time: try again after Retry-After seconds',
              ),
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
            },
          },
        },
        get: {
          summary: 'List jobs, newest first',
          parameters: [
            query('status', 'only jobs in this status', { type: 'string', enum: [...BATCH_STATUSES] }),
            query('since', 'only jobs created at or after this time', { type: 'string', format: 'date-time' }),
            query('limit', 'page size', { type: 'integer', minimum: 1, maximum: 1000, default: 50 }),
            query('cursor', 'nextCursor of the page before', { type: 'string' }),
          ],
          responses: { '200': json('JobList', 'a page of jobs'), '400': error('a bad parameter') },
        },
      },
      '/v1/jobs/{id}': {
        parameters: [JOB_ID],
        get: { summary: 'A job and its progress', responses: { '200': json('Job', 'the job'), ...NOT_FOUND } },
        delete: {
          summary: 'Delete a finished job now: records, tasks, stored documents',
          responses: { '204': { description: 'deleted' }, '409': error('the job is still running'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/cancel': {
        parameters: [JOB_ID],
        post: {
          summary: 'Cancel a job: waiting tasks leave the queues, running ones are stopped',
          responses: { '202': json('Job', 'cancelled'), '409': error('the job already ended'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/retry': {
        parameters: [JOB_ID],
        post: {
          summary: 'Send failed, timed-out and dead-lettered documents round again, from the step they failed in',
          responses: { '202': json('Retried', 'retrying'), '409': error('nothing to retry, or the job was cancelled'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/results': {
        parameters: [JOB_ID],
        get: {
          summary: 'The documents of a job with each step result, a page at a time (or all as NDJSON)',
          parameters: [
            query('status', 'only documents in this status', { type: 'string', enum: [...TASK_STATUSES] }),
            query('limit', 'page size', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
            query('cursor', 'nextCursor of the page before', { type: 'string' }),
            query('include', 'bulky parts left out by default, comma-separated', { type: 'string', examples: ['words,tokens'] }),
            query('format', 'ndjson: every document, one JSON line each, streamed', { type: 'string', enum: ['json', 'ndjson'], default: 'json' }),
          ],
          responses: {
            '200': {
              description: 'the results',
              content: { 'application/json': { schema: ref('Results') }, 'application/x-ndjson': { schema: ref('Document') } },
            },
            '400': error('a bad parameter'),
            ...NOT_FOUND,
          },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary: 'One document whole, with its tasks and error history',
          responses: { '200': json('DocumentDetail', 'the document'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/original': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary: 'The document as it was uploaded (Range requests work)',
          responses: {
            '200': { description: 'the bytes', content: { 'application/octet-stream': {} } },
            '206': { description: 'a range' },
            ...NOT_FOUND,
          },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/pages/{index}/hocr': {
        parameters: [JOB_ID, DOCUMENT_ID, { ...path('index', 'the page, from 0'), schema: { type: 'integer', minimum: 0 } }],
        get: {
          summary: "A page's hOCR (when the job asked for options.hocr)",
          responses: { '200': { description: 'hOCR', content: { 'text/html': {} } }, ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/pdf': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary:
            'The searchable PDF (when the job asked for options.output ["pdf"]): the original pages with an invisible text layer where OCR read them',
          responses: { '200': { description: 'the PDF', content: { 'application/pdf': {} } }, ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/layout': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary:
            'The document\'s layout (when the job asked for options.output ["layout"]): per page, blocks in reading order — heading (with level), paragraph, list_item, table (cells with spans), figure, caption, header, footer, page_number — with boxes, lines and words',
          responses: { '200': json('Layout', 'the layout'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/markdown': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary: 'The document as Markdown: headings, paragraphs, lists, GFM tables; each page opens with a comment `<!-- page N -->`',
          responses: { '200': { description: 'Markdown', content: { 'text/markdown': { schema: { type: 'string' } } } }, ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/tables': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary:
            'The document\'s tables in reading order: rows of cell texts (a spanning cell\'s text in its first row and column, "" in the rest)',
          responses: { '200': json('TableList', 'the tables'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/tables/{n}': {
        parameters: [JOB_ID, DOCUMENT_ID, { ...path('n', 'the table, from 0, in reading order'), schema: { type: 'integer', minimum: 0 } }],
        get: {
          summary: 'One table, as JSON or CSV',
          parameters: [query('format', 'json (default) or csv', { type: 'string', enum: ['json', 'csv'], default: 'json' })],
          responses: {
            '200': {
              description: 'the table',
              content: { 'application/json': { schema: ref('Table') }, 'text/csv': { schema: { type: 'string' } } },
            },
            '400': error('a bad table number or format'),
            ...NOT_FOUND,
          },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/chunks': {
        parameters: [JOB_ID, DOCUMENT_ID],
        get: {
          summary:
            'The document cut into chunks for retrieval: a heading starts one; a table or a sentence is never cut; each with its heading path, pages and boxes',
          parameters: [
            query('maxTokens', 'most tokens a chunk holds (estimated at four characters each)', {
              type: 'integer',
              minimum: 16,
              maximum: 100000,
              default: 512,
            }),
          ],
          responses: { '200': json('ChunkList', 'the chunks'), '400': error('a bad maxTokens'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/events': {
        parameters: [JOB_ID],
        get: {
          summary: "The job's progress as Server-Sent Events: snapshot, batch, step, document, page, task (an attempt ended: worker and times), end",
          parameters: [{ name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'resume after this event' }],
          responses: {
            '200': {
              description:
                'An event stream: each event has an `event:` line naming it, an `id:` (give it back as Last-Event-ID), and a `data:` line ' +
                'of JSON. The events, and their data: ' +
                Object.entries(JOB_EVENTS)
                  .map(([name, event]) => `\`${name}\` (${event.schema}): ${event.description}`)
                  .join('; '),
              content: {
                'text/event-stream': {
                  // The stream as the sequence of its events (OpenAPI 3.1 has no schema for one SSE event).
                  schema: {
                    type: 'array',
                    items: {
                      oneOf: Object.entries(JOB_EVENTS).map(([name, event]) => ({
                        type: 'object',
                        required: ['event', 'data'],
                        properties: { event: { const: name }, id: { type: 'string' }, data: ref(event.schema) },
                        description: event.description,
                      })),
                    },
                  },
                },
              },
            },
            '400': error('a Last-Event-ID this stream did not send'),
            ...NOT_FOUND,
          },
        },
      },
      '/v1/jobs/{id}/documents/{documentId}/review': {
        parameters: [JOB_ID, DOCUMENT_ID],
        post: {
          summary: 'Record a review decision on a document validation sent to review (approve or reject, a note, corrected fields)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ReviewRequest') } } },
          responses: {
            '200': json('ReviewRecorded', 'recorded: the review and the job after it'),
            '400': error('a bad decision or fields'),
            '409': error('the document does not wait for review, or was already reviewed'),
            ...NOT_FOUND,
          },
        },
      },
      '/v1/jobs/{id}/webhooks': {
        parameters: [JOB_ID],
        get: {
          summary: "The job's webhook deliveries, oldest first, each with every try (when, the receiver's status or the error, how long)",
          responses: { '200': json('WebhookDeliveryList', 'the deliveries'), ...NOT_FOUND },
        },
      },
      '/v1/jobs/{id}/webhooks/{deliveryId}/redeliver': {
        parameters: [JOB_ID, path('deliveryId', 'a delivery id from GET /v1/jobs/{id}/webhooks')],
        post: {
          summary: 'Send a delivery again (the same webhook-id and body, tries of its own)',
          responses: { '202': json('WebhookDelivery', 'queued'), ...NOT_FOUND },
        },
      },
      '/v1/reviews': {
        get: {
          summary: 'Documents waiting for review, oldest first, with the reasons and the extracted fields',
          parameters: [
            query('job', 'only this job', { type: 'string' }),
            query('rule', 'only documents a rule of this name sent to review', { type: 'string' }),
            query('limit', 'page size', { type: 'integer', minimum: 1, maximum: 500, default: 50 }),
            query('cursor', 'nextCursor of the page before', { type: 'string' }),
          ],
          responses: { '200': json('ReviewList', 'documents waiting'), '400': error('a bad parameter') },
        },
      },
      '/v1/classifiers': {
        post: {
          summary: 'Store a classifier by name (one stored under a taken name replaces it); jobs name it in options.classify.classifier',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ClassifierRequest') } } },
          responses: {
            '201': json('Classifier', 'stored'),
            '200': json('Classifier', 'replaced'),
            '400': error('a bad name, too few labels, empty examples'),
          },
        },
        get: { summary: 'The stored classifiers', responses: { '200': json('ClassifierList', 'every classifier') } },
      },
      '/v1/classifiers/{name}': {
        parameters: [path('name', 'the name it was stored under')],
        get: { summary: 'A stored classifier', responses: { '200': json('Classifier', 'the classifier'), '404': error('no such classifier') } },
        delete: { summary: 'Delete a stored classifier', responses: { '204': { description: 'deleted' }, '404': error('no such classifier') } },
      },
      '/v1/rulesets': {
        post: {
          summary: 'Store a validation rule set by name (replacing one of that name); jobs name it in options.validate.ruleset',
          requestBody: { required: true, content: { 'application/json': { schema: ref('RulesetRequest') } } },
          responses: { '201': json('Ruleset', 'stored'), '200': json('Ruleset', 'replaced'), '400': error('a bad rule, named by its place') },
        },
        get: { summary: 'The stored rule sets', responses: { '200': json('RulesetList', 'every rule set') } },
      },
      '/v1/rulesets/{name}': {
        parameters: [path('name', 'the name it was stored under')],
        get: { summary: 'A stored rule set', responses: { '200': json('Ruleset', 'the rule set'), '404': error('no such rule set') } },
        delete: { summary: 'Delete a stored rule set', responses: { '204': { description: 'deleted' }, '404': error('no such rule set') } },
      },
      '/api/stats': { get: { summary: 'Workers, queues, totals and limits', responses: { '200': json('Stats', 'the platform now') } } },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics of the whole platform',
          responses: { '200': { description: 'text format 0.0.4', content: { 'text/plain': {} } } },
        },
      },
      '/healthz': {
        get: {
          summary: 'Alive',
          responses: {
            '200': { description: 'alive', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } } },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Ready: Redis answers',
          responses: {
            '200': {
              description: 'ready',
              content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ready' } } } } },
            },
            '503': error('Redis is not reachable'),
          },
        },
      },
    },
  };
  guard(document.paths as unknown as Parameters<typeof guard>[0]);
  return document;
}
