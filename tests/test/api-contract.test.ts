import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { renderTextPng, waitFor, PlatformUnderTest } from '@docproc/testkit';

const KEY = 'contract-key';

/**
 * What the platform says about itself, checked against what it does: real
 * responses against /openapi.json, /metrics by a Prometheus text parser and the
 * naming conventions, /api/stats against the running workers.
 */
describe('the API contract, metrics and stats of a running platform', () => {
  jest.setTimeout(180_000);
  const platform = new PlatformUnderTest({ DOCPROC_API_KEYS: KEY });
  let document: { openapi: string; components: { schemas: Record<string, unknown> }; paths: Record<string, unknown> };
  let batchId: string;
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));

  /** Fetches `path` and checks the body against components.schemas[schema]; returns the body. */
  async function conforming(path: string, init: RequestInit, expectedStatus: number, schema: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${platform.base}${path}`, { ...init, headers: { ...platform.auth(), ...(init.headers ?? {}) } });
    const body = (await res.json()) as Record<string, unknown>;
    expect({ path, status: res.status }).toEqual({ path, status: expectedStatus });
    const validate = ajv.getSchema(`docproc#/components/schemas/${schema}`)!;
    if (!validate(body))
      throw new Error(
        `${path}: the ${res.status} body does not match ${schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 800)}`,
      );
    return body;
  }

  beforeAll(async () => {
    await platform.start(['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation']);
    const res = await fetch(`${platform.base}/openapi.json`, { headers: platform.auth() });
    document = (await res.json()) as typeof document;
    ajv.addSchema({ $id: 'docproc', components: document.components });
    for (const step of ['preprocess', 'ocr', 'nlp', 'validate']) await platform.workersUp(step, 1);
  });
  afterAll(async () => platform.stop());

  it('/openapi.json is a valid OpenAPI 3.1 document covering every route', () => {
    const result = JSON.parse(
      execFileSync(process.execPath, [join(__dirname, '..', 'src', 'validate-openapi.mjs')], { input: JSON.stringify(document), encoding: 'utf8' }),
    ) as { valid: boolean; version: string; errors: unknown };
    expect(result).toEqual({ valid: true, version: '3.1', errors: null });
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/v1/jobs',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/cancel',
        '/v1/jobs/{id}/retry',
        '/v1/jobs/{id}/results',
        '/v1/jobs/{id}/documents/{documentId}',
        '/v1/jobs/{id}/documents/{documentId}/original',
        '/v1/jobs/{id}/documents/{documentId}/pages/{index}/hocr',
        '/v1/jobs/{id}/documents/{documentId}/pdf',
        '/v1/jobs/{id}/documents/{documentId}/layout',
        '/v1/jobs/{id}/documents/{documentId}/markdown',
        '/v1/jobs/{id}/documents/{documentId}/tables',
        '/v1/jobs/{id}/documents/{documentId}/tables/{n}',
        '/v1/jobs/{id}/documents/{documentId}/chunks',
        '/v1/jobs/{id}/events',
        '/v1/jobs/{id}/webhooks',
        '/v1/jobs/{id}/webhooks/{deliveryId}/redeliver',
        '/v1/jobs/{id}/documents/{documentId}/review',
        '/v1/reviews',
        '/v1/classifiers',
        '/v1/classifiers/{name}',
        '/v1/rulesets',
        '/v1/rulesets/{name}',
        '/api/stats',
        '/metrics',
        '/healthz',
        '/readyz',
      ].sort(),
    );
  });

  it('real responses match the document: submit, job, list, results, document, stats and the errors', async () => {
    const form = new FormData();
    form.append('files', new Blob([await renderTextPng(['Invoice 4711', 'Total 99.50 EUR'], { width: 900 })]), 'invoice.png');
    form.append('files', new Blob([Buffer.from('A plain text note about the meeting on Monday.')]), 'note.txt');
    form.append('options', JSON.stringify({ languages: ['eng'] }));
    const submitted = await conforming('/v1/jobs', { method: 'POST', body: form }, 202, 'Submitted');
    batchId = String(submitted.id);
    await platform.finished(batchId, 120_000);

    await conforming(`/v1/jobs/${batchId}`, {}, 200, 'Job');
    await conforming('/v1/jobs?limit=5', {}, 200, 'JobList');
    const results = await conforming(`/v1/jobs/${batchId}/results`, {}, 200, 'Results');
    await conforming(`/v1/jobs/${batchId}/results?include=words,tokens`, {}, 200, 'Results');
    const [first] = results.documents as { documentId: string }[];
    await conforming(`/v1/jobs/${batchId}/documents/${first!.documentId}`, {}, 200, 'DocumentDetail');
    await conforming('/api/stats', {}, 200, 'Stats');

    await conforming('/v1/jobs/no-such-job', {}, 404, 'Error');
    await conforming('/v1/jobs?limit=0', {}, 400, 'Error');
    await conforming(`/v1/jobs/${batchId}/cancel`, { method: 'POST' }, 409, 'Error');
    await conforming(`/v1/jobs/${batchId}/retry`, { method: 'POST' }, 409, 'Error');
    const refused = new FormData();
    refused.append('files', new Blob([Buffer.from('x')]), 'a.txt');
    refused.append('options', JSON.stringify({ langauges: ['eng'] }));
    await conforming('/v1/jobs', { method: 'POST', body: refused }, 400, 'Error');
    await conforming('/v1/jobs', { headers: { authorization: 'Bearer wrong' } }, 401, 'Error');
  });

  it('/metrics parses as Prometheus text, follows the naming conventions, and counts what happened', async () => {
    const res = await fetch(`${platform.base}/metrics`, { headers: platform.auth() });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const families = parsePrometheusTextFormat(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const family of families) {
      expect(family.name).toMatch(/^docproc_[a-z0-9_]+$/);
      expect(family.help.length).toBeGreaterThan(0);
      if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/);
      // (prom-client's own nodejs_active_resources_total is a gauge: not ours to rename)
      else if (!family.name.startsWith('docproc_orchestrator_nodejs_')) expect(family.name).not.toMatch(/_total$/);
      // base units only, as suffixes
      expect(family.name).not.toMatch(/_(ms|milliseconds|minutes|kb|mb|megabytes|percent)(_|$)/);
    }
    const value = (family: MetricFamily | undefined, labels: Record<string, string>) =>
      Number(family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? Number.NaN);

    const queueTasks = byName.get('docproc_queue_tasks');
    for (const queue of ['preprocess', 'ocr', 'nlp', 'validate']) {
      for (const state of ['waiting', 'prioritized', 'active', 'delayed', 'failed'])
        expect(value(queueTasks, { queue, state })).toBeGreaterThanOrEqual(0);
      expect(value(byName.get('docproc_queue_oldest_waiting_age_seconds'), { queue })).toBeGreaterThanOrEqual(0);
      expect(value(byName.get('docproc_workers'), { pool: queue })).toBe(1);
    }
    expect(value(queueTasks, { queue: 'dead-letter', state: 'dead_lettered' })).toBe(0);
    expect(value(byName.get('docproc_documents_total'), { status: 'completed' })).toBeGreaterThanOrEqual(2);
    expect(value(byName.get('docproc_batches_total'), { status: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(value(byName.get('docproc_tasks_total'), { step: 'validate', outcome: 'completed' })).toBeGreaterThanOrEqual(2);
    expect(value(byName.get('docproc_pages_processed_total'), { step: 'ocr' })).toBeGreaterThanOrEqual(1);
    const durations = byName.get('docproc_task_duration_seconds');
    expect(durations?.type).toBe('HISTOGRAM');
    // (the parser keeps a histogram's buckets but not its labels, count and sum: read those lines as they are)
    const line = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const count = line('docproc_task_duration_seconds_count\\{step="ocr"\\}');
    expect(count).toBeGreaterThanOrEqual(1);
    expect(line('docproc_task_duration_seconds_bucket\\{step="ocr",le="\\+Inf"\\}')).toBe(count);
    expect(line('docproc_task_duration_seconds_sum\\{step="ocr"\\}')).toBeGreaterThan(0);
    expect(byName.get('docproc_orchestrator_process_resident_memory_bytes')?.type).toBe('GAUGE');
    expect(byName.get('docproc_worker_resident_memory_bytes')?.metrics.length).toBe(4);
  });

  it('/api/stats names every worker with its pid, host, counts and resources', async () => {
    type Stats = {
      workers: { pool: string; pid: number; processed: number; rssBytes: number; cpuSeconds: number; lastHeartbeat: string }[];
      queues: Record<string, unknown>;
      totals: { documents: Record<string, number> };
      limits: Record<string, unknown>;
    };
    const read = async () => (await (await fetch(`${platform.base}/api/stats`, { headers: platform.auth() })).json()) as Stats;
    // a worker's counts reach the stats with its next heartbeat
    const stats = await waitFor(
      async () => {
        const now = await read();
        return (now.workers.find((w) => w.pool === 'validate')?.processed ?? 0) >= 2 ? now : undefined;
      },
      10_000,
      'the validation worker to report its tasks',
    );
    expect(stats.workers.map((w) => w.pool).sort()).toEqual(['nlp', 'ocr', 'preprocess', 'validate']);
    for (const worker of stats.workers) {
      expect(worker.pid).toBeGreaterThan(1);
      expect(worker.rssBytes).toBeGreaterThan(10_000_000);
      expect(worker.cpuSeconds).toBeGreaterThan(0);
      expect(Date.now() - Date.parse(worker.lastHeartbeat)).toBeLessThan(5_000);
    }
    expect(stats.workers.find((w) => w.pool === 'validate')!.processed).toBeGreaterThanOrEqual(2);
    expect(Object.keys(stats.queues)).toEqual(['preprocess', 'ocr', 'nlp', 'validate', 'dead-letter']);
    expect(stats.limits).toMatchObject({ maxDocumentsPerJob: 10_000 });
  });
});
