import { createServer, request } from 'node:http';

export interface RoundRobinProxy {
  url: string;
  /** Which backend (its port) answered each request so far, in order, with the request's method and path. */
  readonly served: { port: number; method: string; path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy of a test's own in front of several servers on loopback: each request goes
 * to the next backend in turn, the first to the first (a backend that refuses or drops the connection before answering is skipped, as a load balancer marks a dead one down), bodies
 * and answers streamed both ways (SSE too).
 */
export async function startRoundRobinProxy(
  ports: number[],
  /** Called as each answer's head arrives, before it is passed on. */
  onAnswer: (answer: { port: number; method: string; status: number }) => void = () => undefined,
): Promise<RoundRobinProxy> {
  let next = 0;
  const served: RoundRobinProxy['served'] = [];
  const server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const attempt = (tries: number) => {
        const port = ports[next++ % ports.length]!;
        const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
          served.push({ port, method: req.method ?? '', path: req.url ?? '', status: answer.statusCode ?? 0 });
          onAnswer({ port, method: req.method ?? '', status: answer.statusCode ?? 0 });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          if (['ECONNREFUSED', 'ECONNRESET'].includes(err.code ?? '') && !res.headersSent && tries < ports.length) return attempt(tries + 1);
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'bad_gateway', message: err.message } }));
        });
        res.on('close', () => upstream.destroy());
        upstream.end(Buffer.concat(body));
      };
      attempt(1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
