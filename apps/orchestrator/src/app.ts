import { definitionRoutes } from './definitions-routes';
import { reviewDecisionRoute, reviewsRoute } from './reviews-routes';
import { storedClassifiers, storedRulesets } from './definitions';
import { classifierRequestSchema, classifierView, rulesetRequestSchema } from '@docproc/catalog';
import express from 'express';
import type { AppDeps } from './deps';
import { accessLog } from './access-log';
import { BOARD_PATH, boardRouter } from './board';
import { AUTOSCALER_PATH, autoscalerPage } from './autoscaler-page';
import { PAGES_PATH, batchPages } from './batch-pages';
import { docsRoutes } from './docs-routes';
import { operationRoles, ownJobsOnly } from './access';
import { KeyRing } from './api-keys';
import { Deliveries } from './webhooks/deliveries';
import { webhookQueue } from './webhooks/deliver';
import { webhookRoutes } from './webhooks/routes';
import { authenticate, requireRole } from './auth';
import { eventsRoute } from './events-route';
import { errorHandler, notFound, redisUnavailable } from './http-error';
import { diskProblem } from './disk-space';
import { jobsRoutes } from './jobs-routes';
import { metricsRoute } from './metrics';
import { readPlatformState } from './platform-state';
import { resultsRoutes } from './results-routes';
import { statsRoute } from './stats';
import { structureRoutes } from './structure-routes';
import { submitRoute } from './submit-route';
import { shortageOf } from '@docproc/runtime';

export type { AppDeps } from './deps';

/** The orchestrator's HTTP API; `main` only listens. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Every answer: no guessing of types (an original is served as what it is, as an attachment), no framing, no referrer.
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
    next();
  });
  app.use(accessLog(deps.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      // A write, not a PING: a Redis at maxmemory answers PING but refuses every write.
      const probe = deps.redis.set(`${deps.config.keyPrefix}:readyz`, Date.now(), 'PX', 10_000);
      await Promise.race([probe, new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref())]);
      const disk = await diskProblem(deps.config);
      if (disk) {
        res
          .status(503)
          .set('Retry-After', '60')
          .json({ error: { code: 'not_ready', message: disk } });
        return;
      }
      res.json({ status: 'ready' });
    } catch (err) {
      const message =
        shortageOf(err) === 'store_full'
          ? 'Redis is out of memory (maxmemory with noeviction): it refuses every write'
          : `Redis is not reachable: ${(err as Error).message}`;
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ error: { code: 'not_ready', message } });
    }
  });

  // While the connection to Redis is lost, API calls are answered 503 at once, not after a reconnect attempt each.
  app.use(['/v1', '/api'], (_req, _res, next) => {
    next(['reconnecting', 'close', 'end'].includes(deps.redis.status) ? redisUnavailable() : undefined);
  });

  // Pages for a browser (Basic auth, the key as password), then the API (bearer key): each
  // operation's roles are the OpenAPI document's, and a job of another tenant is not there.
  const keys = new KeyRing(deps.config, (message) => deps.logger.error('cannot use the API keys file', { error: message }));
  const docs = docsRoutes();
  const page = authenticate(keys, 'Basic');
  app.use(BOARD_PATH, page, requireRole('admin'), boardRouter(deps.queues, deps.config.boardReadOnly));
  app.use('/docs', page, docs.pages);
  app.use(PAGES_PATH, page, requireRole('read'), batchPages(deps));
  app.use(AUTOSCALER_PATH, page, requireRole('admin'), autoscalerPage(deps));
  app.get('/', (_req, res) => res.redirect(PAGES_PATH));
  app.use(authenticate(keys));
  app.use(docs.spec);
  app.use(operationRoles(docs.document));
  app.use('/v1/jobs/:id', ownJobsOnly(deps));
  const readState = () => readPlatformState(deps);
  app.get('/metrics', metricsRoute(readState, deps.config));
  app.get('/api/stats', statsRoute(readState, deps.config, keys));
  const webhooks = { deliveries: new Deliveries(deps.redis, deps.store.keys), queue: webhookQueue(deps.redis, deps.config.keyPrefix, deps.config) };
  app.use(
    '/v1/jobs',
    submitRoute(deps, keys, webhooks.deliveries),
    webhookRoutes(deps, webhooks),
    jobsRoutes(deps),
    resultsRoutes(deps),
    structureRoutes(deps),
    eventsRoute(deps),
    reviewDecisionRoute(deps),
  );
  app.use('/v1/reviews', reviewsRoute(deps));
  const { logger } = deps;
  app.use(
    '/v1/classifiers',
    definitionRoutes({ noun: 'classifier', request: classifierRequestSchema, store: storedClassifiers(deps), view: classifierView, logger }),
  );
  app.use(
    '/v1/rulesets',
    definitionRoutes({ noun: 'rule set', request: rulesetRequestSchema, store: storedRulesets(deps), view: (stored) => stored, logger }),
  );
  app.use((req, _res, next) => next(notFound(`no route ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
