import { createServer, connect, type Socket } from 'node:net';

export interface FreezableProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Connections made through it so far. */
  readonly connections: number;
  /** Frozen connections their client has not closed yet. */
  readonly frozenOpen: number;
  /**
   * Every connection open now stops forwarding, both ways, without closing: a zombie
   * socket (a frozen proxy, a lost NAT entry). Connections made after go through.
   */
  freeze(): number;
  /** From now, every chunk is forwarded this much later (order kept): a slow network. */
  delay(ms: number): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target` on loopback whose open connections can be slowed down or frozen. */
export async function startFreezableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FreezableProxy> {
  const open = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  let connections = 0;
  let latencyMs = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream, frozen: false };
    open.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (latencyMs === 0) {
          if (!pair.frozen) to.write(chunk);
          return;
        }
        setTimeout(() => !pair.frozen && to.write(chunk), latencyMs);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A frozen connection stays open whatever its peers do: only its client's own timeout ends it.
    client.on('close', end).on('error', end);
    upstream.on('close', () => !pair.frozen && end()).on('error', () => !pair.frozen && end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get connections() {
      return connections;
    },
    get frozenOpen() {
      return [...open].filter((pair) => pair.frozen).length;
    },
    delay(ms: number) {
      latencyMs = ms;
    },
    freeze() {
      for (const pair of open) pair.frozen = true;
      return open.size;
    },
    async close() {
      for (const { client, upstream } of open) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
