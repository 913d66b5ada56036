import type { RequestHandler } from 'express';
import type { Config } from '@docproc/config';
import type { Logger } from '@docproc/runtime';
import type { StatsBody } from './api-schemas';
import type { KeyRing } from './api-keys';
import { backlogOf } from '@docproc/batches';
import { isDeadLetterQueue, type PlatformState } from './platform-state';

/** GET /api/stats: the platform as JSON — workers, queues, totals, the limits in force and each tenant's use of its quotas. */
function statsView(state: PlatformState, config: Config, ring: TenantQuotas): StatsBody {
  const tasks: Record<string, Record<string, number>> = {};
  for (const t of state.counters.tasks) (tasks[t.step] ??= {})[t.outcome] = t.count;
  return {
    at: state.at.toISOString(),
    workers: state.workers.map((w) => ({
      id: w.id,
      pool: w.step,
      pid: w.pid,
      host: w.host,
      concurrency: w.concurrency,
      processed: w.processed,
      failed: w.failed,
      active: w.active,
      currentTasks: w.current ?? [],
      startedAt: w.startedAt,
      lastHeartbeat: w.lastSeen,
      rssBytes: w.rssBytes,
      cpuSeconds: w.cpuSeconds,
      eventLoopLagSeconds: w.eventLoopLagSeconds ?? 0,
    })),
    queues: Object.fromEntries(
      state.queues.map(({ queue, ...signals }) => [queue, { ...signals, oldestWaitingSeconds: Math.round(signals.oldestWaitingSeconds * 10) / 10 }]),
    ),
    totals: { tasks, pages: state.counters.pages, documents: state.counters.documents, batches: state.counters.batches },
    limits: {
      maxBacklog: config.maxBacklog,
      maxDocumentsPerJob: config.maxDocumentsPerJob,
      maxUploadBytes: config.maxUploadBytes,
      maxDocumentBytes: config.maxDocumentBytes,
      maxPages: config.maxPages,
      stepTimeoutMs: config.stepTimeoutMs,
      attempts: config.attempts,
    },
    autoscaler: autoscalerView(state),
    tenants: tenantsView(state, ring),
  };
}

type TenantQuotas = Pick<KeyRing, 'quotasOf' | 'tenants'>;

/** Each tenant the keys file names or that has work: its backlog and today's documents against its quotas, and refusals. */
function tenantsView(state: PlatformState, ring: TenantQuotas): StatsBody['tenants'] {
  const names = new Set([...ring.tenants(), ...Object.keys(state.counters.tenantLoads), ...Object.keys(state.documentsToday)]);
  return Object.fromEntries(
    [...names].sort().map((tenant) => [
      tenant,
      {
        backlogDocuments: state.counters.tenantLoads[tenant] ?? 0,
        documentsToday: state.documentsToday[tenant] ?? 0,
        quotas: ring.quotasOf(tenant),
        refusals: Object.fromEntries(state.counters.quotaRefusals.filter((r) => r.tenant === tenant).map((r) => [r.quota, r.count])),
      },
    ]),
  );
}

/** The autoscaler's latest look, per pool; stale after three intervals without one. */
function autoscalerView({ scaling, at }: PlatformState): StatsBody['autoscaler'] {
  if (!scaling) return null;
  return {
    backend: scaling.backend,
    at: new Date(scaling.at).toISOString(),
    intervalSeconds: scaling.intervalSeconds,
    stale: at.getTime() - scaling.at > 3 * scaling.intervalSeconds * 1000,
    pools: Object.fromEntries(
      scaling.decisions.map(({ pool, current, desired, recommended, kind, reason, signals: { pool: _pool, ...signals } }) => [
        pool,
        { actual: current, desired, recommended, kind, reason, min: 0, max: 0, ...scaling.pools[pool], signals },
      ]),
    ),
  };
}

export function statsRoute(readState: () => Promise<PlatformState>, config: Config, ring: TenantQuotas): RequestHandler {
  return async (_req, res) => {
    res.json(statsView(await readState(), config, ring));
  };
}

/** One line on where the platform stands: workers per pool, waiting work per queue, what ended. */
function summaryLine(state: PlatformState): { message: string; fields: Record<string, unknown> } {
  const pools: Record<string, number> = {};
  for (const w of state.workers) pools[w.step] = (pools[w.step] ?? 0) + 1;
  const queues = state.queues.filter((q) => !isDeadLetterQueue(q));
  const waiting = queues.map(
    (q) => `${q.queue} ${backlogOf(q)}${q.oldestWaitingSeconds > 0 ? ` (oldest ${q.oldestWaitingSeconds.toFixed(1)} s)` : ''}`,
  );
  const running = queues.map((q) => `${q.queue} ${q.active}`);
  const deadLetters = state.queues.filter(isDeadLetterQueue).reduce((n, q) => n + backlogOf(q), 0);
  const documents = state.counters.documents;
  const message =
    `platform: workers ${
      Object.entries(pools)
        .map(([pool, n]) => `${pool} ${n}`)
        .join(', ') || 'none'
    }; ` +
    `waiting ${waiting.join(', ')}; running ${running.join(', ')}; ` +
    `documents ended ${documents.completed ?? 0} completed, ${(documents.failed ?? 0) + (documents.timeout ?? 0)} failed, ${documents.cancelled ?? 0} cancelled; ` +
    `dead letters ${deadLetters}`;
  return { message, fields: { workers: pools, waiting: Object.fromEntries(queues.map((q) => [q.queue, backlogOf(q)])), deadLetters } };
}

/** Logs the summary line every `intervalSeconds` (0: never). Returns a stop function. */
export function startSummaryLog(readState: () => Promise<PlatformState>, logger: Logger, intervalSeconds: number): () => Promise<void> {
  if (intervalSeconds <= 0) return async () => undefined;
  const timer = setInterval(() => {
    void readState()
      .then((state) => {
        const { message, fields } = summaryLine(state);
        logger.info(message, fields);
      })
      .catch((err: Error) => logger.warn('cannot read the platform state for the summary line', { error: err.message }));
  }, intervalSeconds * 1000);
  timer.unref();
  return async () => clearInterval(timer);
}
