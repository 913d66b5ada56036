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
import { requireApiKey } from './auth';
import { eventsRoute } from './events-route';
import { errorHandler, notFound } from './http-error';
import { jobsRoutes } from './jobs-routes';
import { metricsRoute } from './metrics';
import { readPlatformState } from './platform-state';
import { resultsRoutes } from './results-routes';
import { statsRoute } from './stats';
import { submitRoute } from './submit-route';

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
      await Promise.race([deps.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref())]);
      res.json({ status: 'ready' });
    } catch (err) {
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ error: { code: 'not_ready', message: `Redis is not reachable: ${(err as Error).message}` } });
    }
  });

  // Pages for a browser (Basic auth, the key as password), then the API (bearer key).
  const docs = docsRoutes();
  app.use(BOARD_PATH, requireApiKey(deps.config.apiKeys, 'Basic'), boardRouter(deps.queues, deps.config.boardReadOnly));
  app.use('/docs', requireApiKey(deps.config.apiKeys, 'Basic'), docs.pages);
  app.use(PAGES_PATH, requireApiKey(deps.config.apiKeys, 'Basic'), batchPages(deps));
  app.use(AUTOSCALER_PATH, requireApiKey(deps.config.apiKeys, 'Basic'), autoscalerPage(deps));
  app.get('/', (_req, res) => res.redirect(PAGES_PATH));
  app.use(requireApiKey(deps.config.apiKeys));
  app.use(docs.spec);
  const readState = () => readPlatformState(deps);
  app.get('/metrics', metricsRoute(readState));
  app.get('/api/stats', statsRoute(readState, deps.config));
  app.use('/v1/jobs', submitRoute(deps), jobsRoutes(deps), resultsRoutes(deps), eventsRoute(deps), reviewDecisionRoute(deps));
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
