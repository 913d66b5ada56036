import { readEvents, recordKeys } from '@docproc/batches';
import {
  freePort,
  orchestratorReady,
  startFreezableProxy,
  startRoundRobinProxy,
  waitFor,
  type FreezableProxy,
  type RoundRobinProxy,
  PlatformUnderTest,
} from '@docproc/testkit';
import type { Platform } from '@docproc/supervisor';

const DOCUMENTS = 5000;

/** How often each document's task of `step` completed, from the batch's task events. */
async function completedRuns(platform: PlatformUnderTest, id: string, step: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  for (const event of await readEvents(platform.redis, recordKeys(platform.prefix).events(id), '0', 1_000_000)) {
    if (event.type !== 'task' || event.data.step !== step || event.data.status !== 'completed') continue;
    const doc = String(event.data.document);
    runs.set(doc, (runs.get(doc) ?? 0) + 1);
  }
  return runs;
}

describe('three orchestrators behind a round-robin proxy', () => {
  let platform: PlatformUnderTest;
  let proxy: RoundRobinProxy | undefined;
  let redisProxy: FreezableProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
    await platform?.stop();
    await redisProxy?.close();
  });

  it('one SIGKILLed during the fan-out of a 5,000-document job: one survivor resumes it, every document completes once, the job expires once', async () => {
    platform = new PlatformUnderTest({
      LOG_LEVEL: 'info',
      DOCPROC_MAX_EVENTS_PER_JOB: '100000',
      // Expire the job 15 s after it ends, looked for every second by each orchestrator.
      DOCPROC_RETENTION_HOURS: String(15 / 3600),
      DOCPROC_RETENTION_SWEEP_SECONDS: '1',
    });
    // The first orchestrator takes the first request (the submit). Its Redis connections go
    // through a proxy frozen the moment it answers 202: its fan-out stops where it is, then it is killed.
    redisProxy = await startFreezableProxy(6379);
    // 25 ms each way: its fan-out of 5,000 takes seconds, not milliseconds, so the kill lands mid-way.
    redisProxy.delay(25);
    const groups: { port: number; group: Platform }[] = [];
    for (let i = 0; i < 3; i++) {
      const port = i === 0 ? 0 : await freePort();
      const env: Record<string, string> = i === 0 ? { REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` } : { PORT: String(port) };
      const group = await platform.start(['orchestrator'], { env });
      if (port) await orchestratorReady(`http://127.0.0.1:${port}`);
      groups.push({ port: port || Number(new URL(platform.base).port), group });
    }
    await platform.start(['worker-validation']);
    await platform.workersUp('validate', 1);
    const [victim] = groups;
    let fanningAtKill: Promise<string[]> | undefined;
    proxy = await startRoundRobinProxy(
      groups.map((g) => g.port),
      ({ method, status }) => {
        if (method !== 'POST' || status !== 202 || fanningAtKill) return;
        redisProxy!.freeze();
        victim!.group.kill();
        fanningAtKill = platform.redis.smembers(recordKeys(platform.prefix).fanningOut);
      },
    );
    platform.base = proxy.url;

    // Status, results and SSE through every orchestrator in turn.
    const files = Array.from({ length: DOCUMENTS }, (_, i) => ({ name: `n-${i}.txt`, bytes: Buffer.from(`note ${i}`) }));
    const id = await platform.submit(files, { pipeline: 'validate' });
    const submitted = proxy.served.find((s) => s.method === 'POST')!;
    expect(submitted.port).toBe(victim!.port);
    const survivors = groups.filter((g) => g !== victim).map((g) => g.port);

    for (let i = 0; i < 4; i++) expect((await platform.status(id)).id).toBe(id);
    const events = await fetch(`${proxy.url}/v1/jobs/${id}/events`, { headers: { accept: 'text/event-stream' } });
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    let stream = '';
    while (!/\ndata: /.test(stream)) stream += new TextDecoder().decode((await reader.read()).value);
    expect(stream).toMatch(/^retry: \d+/);
    await reader.cancel();

    const ended = await platform.finished(id, 600_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { total: DOCUMENTS, completed: DOCUMENTS, failed: 0 } });
    const runs = await completedRuns(platform, id, 'validate');
    expect(runs.size).toBe(DOCUMENTS);
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    expect((await platform.documents(id)).length).toBeGreaterThan(0);
    expect(proxy.served.filter((s) => s.status >= 500)).toEqual([]);
    expect(new Set(proxy.served.map((s) => s.port))).toEqual(new Set(survivors.concat(submitted.port)));

    // The killed one was mid-way; exactly one survivor finished its fan-out.
    expect(await fanningAtKill).toContain(id);
    expect(platform.logs.filter((line) => line.includes('batch fanned out')).length).toBe(1);
    // The retention sweep removes the job once, whichever orchestrator holds the lease.
    await waitFor(async () => ((await fetch(`${proxy!.url}/v1/jobs/${id}`)).status === 404 ? true : undefined), 120_000, 'the job to expire');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(platform.logs.filter((line) => line.includes('batch expired') && line.includes(id)).length).toBe(1);
  }, 900_000);
});
