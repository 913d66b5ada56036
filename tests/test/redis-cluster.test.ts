import { PlatformUnderTest, documentEnds, renderTextPng, startRedisCluster, waitFor, type TestRedisCluster } from '@docproc/testkit';

/** Scanned-looking pages, a second or so of OCR each. */
async function pages(count: number): Promise<{ name: string; bytes: Buffer }[]> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const text = [`Page ${i} of the cluster test`, 'Harbour authority quarterly figures', `reference ${3000 + i}`];
    out.push({ name: `page-${String(i).padStart(2, '0')}.png`, bytes: await renderTextPng(text, { width: 1600 }) });
  }
  return out;
}

describe('Redis Cluster: three masters with a replica each (real processes)', () => {
  let cluster: TestRedisCluster;
  let platform: PlatformUnderTest | undefined;
  afterEach(async () => {
    await platform?.stop();
    await cluster?.stop();
  });

  it('runs a batch on the cluster and follows the failover of the slot master mid-batch: every document completes exactly once', async () => {
    // Below Linux's ephemeral range (32768 up), where the kernel hands ports to every connection
    // the tests in parallel open (a cluster node binds its port + 10000 as well).
    cluster = await startRedisCluster(10_000 + Math.floor(Math.random() * 12_000));
    const env = { DOCPROC_REDIS_CLUSTER_NODES: cluster.nodes.join(',') };
    platform = new PlatformUnderTest(env, `redis://${cluster.nodes[0]}`);
    await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp'], { instances: { 'worker-ocr': 2 } });
    await platform.workersUp('ocr', 2);

    const submitStarted = Date.now();
    const id = await platform.submit(await pages(24), { pipeline: 'ocr,nlp' });
    process.stdout.write(`cluster: submit of 24 pages, waiting for a replica: ${Date.now() - submitStarted} ms\n`);
    await waitFor(async () => ((await platform!.status(id)).progress.completed >= 3 ? true : undefined), 120_000, 'some documents done');

    const before = (await platform.status(id)).progress.completed;
    const killedAt = Date.now();
    const killed = await cluster.killMasterOf(platform.prefix);
    await waitFor(
      async () => {
        const status = await platform!.status(id).catch(() => undefined);
        return status && status.progress.completed > before ? true : undefined;
      },
      60_000,
      'a document completed after the master was killed',
    );
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    process.stdout.write(`cluster: master on ${killed} killed; first document completed after it in ${recoverySeconds.toFixed(1)} s\n`);
    expect(recoverySeconds).toBeLessThan(30);
    expect(await cluster.masterOf(platform.prefix)).not.toBe(killed);

    // The promoted replica has none of its own: a submit is not acknowledged, nothing could be lost to the next failover.
    const form = new FormData();
    form.append('files', new Blob([Buffer.from('a short note')]), 'note.txt');
    form.append('pipeline', 'nlp');
    const refused = await fetch(`${platform.base}/v1/jobs`, { method: 'POST', body: form });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_replicated');

    const ended = await platform.finished(id, 240_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: 24, failed: 0 } });
    const ends = await documentEnds(platform, id);
    expect(ends.size).toBe(24);
    expect([...ends.values()].every((statuses) => statuses.length === 1)).toBe(true);
  }, 420_000);
});
