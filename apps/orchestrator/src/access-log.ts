import type { RequestHandler } from 'express';
import type { Logger } from '@docproc/runtime';

/** Probes and scrapes come every few seconds: their lines are debug, the rest info. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** One line per HTTP request once it ends: method, path (no query, no body), status, ms. */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const path = req.originalUrl.split('?')[0]!;
      const fields = { method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) };
      if (PROBES.has(path)) logger.debug('request', fields);
      else logger.info('request', fields);
    });
    next();
  };
}
