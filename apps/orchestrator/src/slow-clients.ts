import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@docproc/runtime';

export interface SlowClientLimits {
  /** A request whose headers have not all arrived after this long is cut (Node answers 408). */
  headersTimeoutMs: number;
  /** A request body arriving slower than this, on average, once the grace below has passed, is cut with 408. */
  minUploadBytesPerSecond: number;
  /** How long a body may take before its rate is judged. */
  uploadGraceMs: number;
}

/**
 * An HTTP server that cuts clients holding a connection without sending: headers that never
 * finish (Node's headersTimeout, checked every second), and uploads that trickle (a body
 * slower than the minimum rate after the grace). The rate is read from the socket's byte
 * count, so the body stream itself is left to the upload parser.
 */
export function createGuardedServer(app: RequestListener, limits: SlowClientLimits, logger: Logger): Server {
  const server = createServer({ headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: 1000 }, app);
  // requestTimeout (whole request) stays Node's 5 minutes: a large upload at a fair rate must fit.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete || !hasBody(req)) return;
    const socket = req.socket;
    const startedAt = Date.now();
    const startBytes = socket.bytesRead;
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) return clearInterval(timer);
      const elapsed = Date.now() - startedAt;
      if (elapsed < limits.uploadGraceMs) return;
      const rate = ((socket.bytesRead - startBytes) * 1000) / elapsed;
      if (rate >= limits.minUploadBytesPerSecond) return;
      clearInterval(timer);
      logger.warn('upload too slow: connection cut', { path: req.url, bytesPerSecond: Math.round(rate), seconds: Math.round(elapsed / 1000) });
      if (!res.headersSent) {
        const message = `the upload arrived at ${Math.round(rate)} bytes/s, under the minimum of ${limits.minUploadBytesPerSecond}: send it faster`;
        res.writeHead(408, { 'content-type': 'application/json', connection: 'close', 'x-content-type-options': 'nosniff' });
        res.end(JSON.stringify({ error: { code: 'request_timeout', message } }));
      }
      setTimeout(() => socket.destroy(), 100).unref();
    }, 1000);
    timer.unref();
    req.once('end', () => clearInterval(timer));
    res.once('close', () => clearInterval(timer));
  });
  return server;
}

function hasBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}
