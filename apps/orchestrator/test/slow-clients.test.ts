import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@docproc/runtime';
import { createGuardedServer } from '../src/slow-clients';

/** What a raw client gets back before the server closes its connection, and when it closed (ms after connecting). */
function rawClient(port: number, send: (socket: Socket) => void): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => send(socket));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
  });
}

describe('slow clients', () => {
  // The handler reads the body as an upload parser does, and answers once it has it all.
  const server = createGuardedServer(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    },
    { headersTimeoutMs: 1500, minUploadBytesPerSecond: 1024, uploadGraceMs: 1500 },
    createLogger('test', 'error'),
  );
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('cuts an upload that trickles (a byte every 200 ms) with 408 and a JSON error', async () => {
    let timer: NodeJS.Timeout | undefined;
    const { answer, closedAfterMs } = await rawClient(port, (socket) => {
      socket.write('POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
      timer = setInterval(() => socket.writable && socket.write('a'), 200);
    });
    clearInterval(timer);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(answer).toContain('"code":"request_timeout"');
    expect(answer).toMatch(/under the minimum of 1024/);
    expect(closedAfterMs).toBeLessThan(10_000);
  });

  it('cuts a request whose headers never finish', async () => {
    const { answer, closedAfterMs } = await rawClient(port, (socket) => socket.write('GET /v1/jobs HTTP/1.1\r\nHost: x\r\n'));
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(closedAfterMs).toBeLessThan(10_000);
  });

  it('lets an upload at a fair rate through', async () => {
    const { answer } = await rawClient(port, (socket) => {
      socket.write('POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n');
      let sent = 0;
      const timer = setInterval(() => {
        socket.write(Buffer.alloc(1024, 97));
        if ((sent += 1024) >= 4096) clearInterval(timer);
      }, 400);
    });
    expect(answer).toMatch(/^HTTP\/1.1 200/);
  });
});
