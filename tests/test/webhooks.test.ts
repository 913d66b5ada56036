import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformUnderTest, waitFor } from '@docproc/testkit';

interface Received {
  id: string;
  type: string;
  document?: string;
  status: number;
}

/**
 * A receiver written from the Standard Webhooks specification alone: the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 keyed with the base64 after
 * `whsec_`; `webhook-signature` is a space-separated list of `v1,<base64>`; a timestamp more
 * than five minutes away is refused.
 */
function verify(secret: string, req: IncomingMessage, body: string): boolean {
  const id = String(req.headers['webhook-id'] ?? '');
  const timestamp = String(req.headers['webhook-timestamp'] ?? '');
  if (!id || !/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret.split('_')[1]!, 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest();
  return String(req.headers['webhook-signature'] ?? '')
    .split(' ')
    .some((entry) => {
      const [version, signature] = entry.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe('webhooks, signed as Standard Webhooks says, from their own queue (real processes)', () => {
  jest.setTimeout(120_000);
  let platform: PlatformUnderTest | undefined;
  let receiver: Server | undefined;
  afterEach(async () => {
    receiver?.close();
    await platform?.stop();
  });

  it("delivers a job's events signed, retries a receiver that failed, records each try, and redelivers", async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const received: Received[] = [];
    let failFirst = true;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (!verify(secret, req, body)) return void res.writeHead(401).end();
        const event = JSON.parse(body) as { type: string; data: { document?: { name: string } } };
        // The first delivery meets a receiver that is down for a moment: it is tried again.
        const status = failFirst ? 503 : 204;
        failFirst = false;
        received.push({ id: String(req.headers['webhook-id']), type: event.type, document: event.data.document?.name, status });
        res.writeHead(status).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await new Promise((resolve) => receiver!.once('listening', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;

    const file = join(mkdtempSync(join(tmpdir(), 'docproc-hooks-')), 'api-keys.json');
    const key = 'hooks-key';
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'acme-user', tenant: 'acme', roles: ['submit', 'read'], sha256: createHash('sha256').update(key).digest('hex') },
        { tenant: 'acme', webhook: { secret } },
      ]),
    );
    platform = new PlatformUnderTest({ DOCPROC_API_KEYS_FILE: file, DOCPROC_WEBHOOK_ALLOW_PRIVATE: 'true', DOCPROC_WEBHOOK_RETRY_MS: '300' });
    await platform.start(['orchestrator', 'worker-nlp']);
    await platform.workersUp('nlp', 1);
    const auth = { authorization: `Bearer ${key}` };

    const form = new FormData();
    form.append('files', new Blob([Buffer.from('The harbour authority met on Monday.')]), 'a.txt');
    form.append('files', new Blob([Buffer.from('Quarterly figures rose in March.')]), 'b.txt');
    form.append('pipeline', 'nlp');
    form.append('options', JSON.stringify({ webhook: { url, events: ['document.completed', 'job.completed'] } }));
    const submitted = await fetch(`${platform.base}/v1/jobs`, { method: 'POST', body: form, headers: auth });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };

    // Three events, each delivered once (after its retry, for the first).
    const delivered = () => new Set(received.filter((r) => r.status === 204).map((r) => r.id));
    await waitFor(async () => (delivered().size === 3 ? true : undefined), 60_000, 'three deliveries');
    const types = [...delivered()].map((deliveryId) => received.find((r) => r.id === deliveryId)!);
    expect(types.map((r) => `${r.type} ${r.document ?? ''}`.trim()).sort()).toEqual([
      'document.completed a.txt',
      'document.completed b.txt',
      'job.completed',
    ]);
    expect(received[0]!.status).toBe(503);
    expect(received.filter((r) => r.id === received[0]!.id).map((r) => r.status)).toEqual([503, 204]);

    // Each delivery and its tries are visible; one can be sent again (the same webhook-id).
    const listing = (await (await fetch(`${platform.base}/v1/jobs/${id}/webhooks`, { headers: auth })).json()) as {
      deliveries: { id: string; status: string; attempts: { status?: number }[] }[];
    };
    expect(listing.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const retried = listing.deliveries.find((d) => d.id === received[0]!.id)!;
    expect(retried.attempts.map((a) => a.status)).toEqual([503, 204]);
    const again = await fetch(`${platform.base}/v1/jobs/${id}/webhooks/${retried.id}/redeliver`, { method: 'POST', headers: auth });
    expect(again.status).toBe(202);
    await waitFor(async () => (received.filter((r) => r.id === retried.id).length === 3 ? true : undefined), 30_000, 'the redelivery');
  });

  it('refuses at submit a webhook to a private address, and one for a tenant without a secret', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'docproc-hooks-')), 'api-keys.json');
    const sha = (k: string) => createHash('sha256').update(k).digest('hex');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'acme-user', tenant: 'acme', roles: ['submit'], sha256: sha('acme') },
        { id: 'globex-user', tenant: 'globex', roles: ['submit'], sha256: sha('globex') },
        { tenant: 'acme', webhook: { secret: `whsec_${randomBytes(24).toString('base64')}` } },
      ]),
    );
    platform = new PlatformUnderTest({ DOCPROC_API_KEYS_FILE: file });
    await platform.start(['orchestrator']);
    const submit = async (key: string, hook: string) => {
      const form = new FormData();
      form.append('files', new Blob([Buffer.from('text')]), 'a.txt');
      form.append('pipeline', 'nlp');
      form.append('options', JSON.stringify({ webhook: { url: hook } }));
      const res = await fetch(`${platform!.base}/v1/jobs`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, message: ((await res.json()) as { error?: { message: string } }).error?.message ?? '' };
    };
    for (const hook of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://169.254.169.254/latest'])
      expect(await submit('acme', hook)).toEqual({ status: 400, message: expect.stringMatching(/names a private address/) });
    expect(await submit('globex', 'https://hooks.example.com/x')).toEqual({
      status: 400,
      message: expect.stringMatching(/tenant globex has no webhook secret/),
    });
  });
});
