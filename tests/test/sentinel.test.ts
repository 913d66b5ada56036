import { documentEnds, hasRedisSentinel, renderTextPng, startSentinelGroup, waitFor, type SentinelGroup, PlatformUnderTest } from '@docproc/testkit';

/** Scanned-looking pages, a second or so of OCR each. */
async function pages(count: number): Promise<{ name: string; bytes: Buffer }[]> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const text = [`Page ${i} of the failover test`, 'Harbour authority quarterly figures', `reference ${2000 + i}`];
    out.push({ name: `page-${String(i).padStart(2, '0')}.png`, bytes: await renderTextPng(text, { width: 1600 }) });
  }
  return out;
}

(hasRedisSentinel() ? describe : describe.skip)('Redis Sentinel: a master, a replica, three sentinels (real processes)', () => {
  let group: SentinelGroup;
  let platform: PlatformUnderTest | undefined;
  afterEach(async () => {
    await platform?.stop();
    await group?.stop();
  });

  it('follows a failover mid-batch: every accepted document completes exactly once; submits wait for a replica', async () => {
    // Below Linux's ephemeral range (32768 up), where the kernel hands ports to every connection
    // the tests in parallel open (a cluster node binds its port + 10000 as well).
    group = await startSentinelGroup(10_000 + Math.floor(Math.random() * 12_000));
    const env = { DOCPROC_REDIS_SENTINELS: group.sentinels.join(','), DOCPROC_REDIS_MASTER: group.master };
    platform = new PlatformUnderTest(env, `redis://127.0.0.1:${group.masterPort}`);
    await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp'], { instances: { 'worker-ocr': 2 } });
    await platform.workersUp('ocr', 2);

    const submitStarted = Date.now();
    const id = await platform.submit(await pages(24), { pipeline: 'ocr,nlp' });
    process.stdout.write(`submit of 24 pages, waiting for a replica: ${Date.now() - submitStarted} ms\n`);
    await waitFor(async () => ((await platform!.status(id)).progress.completed >= 3 ? true : undefined), 120_000, 'some documents done');

    const before = (await platform.status(id)).progress.completed;
    const killedAt = Date.now();
    const killed = await group.killMaster();
    // the first document completed after the kill, seen through the API (which follows the failover too)
    await waitFor(
      async () => {
        const status = await platform!.status(id).catch(() => undefined);
        return status && status.progress.completed > before ? true : undefined;
      },
      60_000,
      'a document completed after the master was killed',
    );
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    process.stdout.write(`master on ${killed} killed; first document completed after it in ${recoverySeconds.toFixed(1)} s\n`);
    expect(recoverySeconds).toBeLessThan(30);
    expect(await group.currentMasterPort()).toBe(group.replicaPort);

    // With no replica left, a submit is not acknowledged: nothing could be lost to the next failover.
    const form = new FormData();
    form.append('files', new Blob([Buffer.from('a short note')]), 'note.txt');
    form.append('pipeline', 'nlp');
    const refused = await fetch(`${platform.base}/v1/jobs`, { method: 'POST', body: form });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_replicated');

    const ended = await platform.finished(id, 240_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: 24, failed: 0 } });
    const ends = await documentEnds(platform, id);
    expect(ends.size).toBe(24);
    expect([...ends.values()].every((statuses) => statuses.length === 1)).toBe(true);

    // The old master comes back as a replica: submits are accepted again.
    await group.restartAsReplica(killed);
    const again = await waitFor(
      async () => {
        const form = new FormData();
        form.append('files', new Blob([Buffer.from('a short note')]), 'note.txt');
        form.append('pipeline', 'nlp');
        const res = await fetch(`${platform!.base}/v1/jobs`, { method: 'POST', body: form });
        return res.status === 202 ? res : undefined;
      },
      30_000,
      'a submit accepted once a replica is back',
    );
    expect(again.status).toBe(202);
  }, 420_000);
});
