import express from 'express';
import type { AppDeps } from './deps';
import { requireApiKey } from './auth';
import { eventsRoute } from './events-route';
import { errorHandler, notFound } from './http-error';
import { jobsRoutes } from './jobs-routes';
import { resultsRoutes } from './results-routes';
import { submitRoute } from './submit-route';

export type { AppDeps } from './deps';

/** The orchestrator's HTTP API; `main` only listens. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

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

  app.use(requireApiKey(deps.config.apiKeys));
  app.use('/v1/jobs', submitRoute(deps), jobsRoutes(deps), resultsRoutes(deps), eventsRoute(deps));
  app.use((req, _res, next) => next(notFound(`no route ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
