import { createServer, type Server } from 'node:http';
import type { Logger } from 'winston';

/** Each answers null when all is well, or the reason it is not. */
export interface HealthChecks {
  /** Whether the process still works at all (else it should be restarted). */
  live(): string | null;
  /** Whether it should be given work now (else wait: Redis away, draining). */
  ready(): string | null;
}

/**
 * /healthz and /readyz for a process that has no API of its own (a worker, the
 * autoscaler), for Kubernetes probes and the image's HEALTHCHECK: 200 or 503 with the
 * reason as JSON. They say only how the process is, so they need no key.
 */
export function startHealthServer(port: number, host: string, checks: HealthChecks, logger: Logger): { close(): Promise<void> } {
  const server: Server = createServer((req, res) => {
    const check = req.url === '/healthz' ? checks.live : req.url === '/readyz' ? checks.ready : undefined;
    const problem = check ? check() : 'not found';
    res.writeHead(check === undefined ? 404 : problem === null ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(problem === null ? { status: 'ok' } : { status: 'unavailable', reason: problem }));
  });
  server.on('error', (err) => logger.error('health endpoint cannot listen', { port, host, error: err.message }));
  server.listen(port, host);
  return {
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections(); // probes' kept-alive connections would hold the close
      }),
  };
}
