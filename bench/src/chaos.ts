/**
 * pnpm bench:chaos — the platform's promises under failure, with real processes: each
 * scenario runs `docproc up`'s apps (each its own node process) on a batch, injects its
 * fault mid-batch, waits (bounded) for the batch to end, and reads what happened from the
 * records: documents accepted, completed, failed, lost (never ended), run twice (a step of
 * a document, or a page of it, completed more than once — from the batch's task events),
 * and the worst recovery: from the fault (a kill; the end of an outage) to the first task
 * completed after it — for a killed worker, to its task running again.
 *
 * Scenarios: a CPU hog (stress-ng, 4 per core) over the whole batch; three SIGKILLs of busy
 * OCR workers; a Redis master SIGKILLed under Sentinel; every Redis connection frozen (a
 * TCP proxy that stops forwarding); Redis at maxmemory for 8 s; the data disk full for 6 s
 * (needs root, to mount a tmpfs); one of three orchestrators SIGKILLed mid-way through the
 * fan-out of 5,000 documents. BENCH_SCENARIOS picks some (comma-separated names).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { readEvents, recordKeys } from '@docproc/batches';
import { queueName } from '@docproc/catalog';
import {
  CORPUS_DIR,
  PlatformUnderTest,
  corpusAvailable,
  corpusFile,
  freePort,
  hasRedisSentinel,
  orchestratorReady,
  scanPages,
  startCpuHog,
  startFreezableProxy,
  startRedisServer,
  startRoundRobinProxy,
  startSentinelGroup,
  waitFor,
} from '@docproc/testkit';

interface Outcome {
  scenario: string;
  accepted: number;
  completed: number;
  failed: number;
  lost: number;
  runTwice: number;
  worstRecoverySeconds: number | null;
  seconds: number;
  note?: string;
}

type Files = { name: string; bytes: Buffer }[];
const texts = (count: number): Files =>
  Array.from({ length: count }, (_, i) => ({ name: `n-${i}.txt`, bytes: Buffer.from(`note ${i}: pay 12.00 EUR`) }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tasks completed so far over every step (the platform's counters). */
async function tasksCompleted(platform: PlatformUnderTest): Promise<number> {
  const counters = await platform.redis.hgetall(recordKeys(platform.prefix).counters);
  return Object.entries(counters)
    .filter(([field]) => /^tasks:[^:]+:completed$/.test(field))
    .reduce((sum, [, value]) => sum + Number(value), 0);
}

/** Seconds from `since` until a task completes after it (polled every 100 ms). */
async function untilNextCompletion(platform: PlatformUnderTest, since: number, timeoutMs = 120_000): Promise<number> {
  const before = await tasksCompleted(platform).catch(() => Number.POSITIVE_INFINITY);
  await waitFor(async () => ((await tasksCompleted(platform).catch(() => before)) > before ? true : undefined), timeoutMs, 'a task completed');
  return (Date.now() - since) / 1000;
}

/** Runs of each (document, step, page) that completed more than once. */
async function runTwice(platform: PlatformUnderTest, id: string): Promise<number> {
  const runs = new Map<string, number>();
  for (const event of await readEvents(platform.redis, recordKeys(platform.prefix).events(id), '0', 1_000_000)) {
    if (event.type !== 'task' || event.data.status !== 'completed') continue;
    const key = `${event.data.document}/${event.data.step}/${event.data.page ?? ''}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
  }
  return [...runs.values()].filter((n) => n > 1).length;
}

/** Waits for the batch to end (at most `timeoutMs`) and reads the outcome. */
async function outcome(
  platform: PlatformUnderTest,
  scenario: string,
  id: string,
  accepted: number,
  recoveries: number[],
  started: number,
  timeoutMs: number,
) {
  await platform.finished(id, timeoutMs).catch(() => undefined);
  const { progress } = await platform.status(id);
  return {
    scenario,
    accepted,
    completed: progress.completed,
    failed: progress.failed,
    lost: accepted - progress.completed - progress.failed - progress.cancelled,
    runTwice: await runTwice(platform, id),
    worstRecoverySeconds: recoveries.length ? Math.max(...recoveries) : null,
    seconds: Math.round((Date.now() - started) / 1000),
  } satisfies Outcome;
}

async function cpuHog(): Promise<Outcome> {
  const platform = new PlatformUnderTest();
  const hog = startCpuHog(4);
  try {
    await platform.start(['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation']);
    await platform.workersUp('ocr', 1);
    const started = Date.now();
    // The corpus's scans (when ../shared is there) and generated pages; invalid.pdf is left out: it fails by design.
    const corpus = corpusAvailable()
      ? readdirSync(CORPUS_DIR)
          .filter((name) => /\.(pdf|png|jpe?g|tiff?)$/i.test(name) && name !== 'invalid.pdf')
          .map((name) => ({ name, bytes: readFileSync(corpusFile(name)) }))
      : [];
    const files = [...corpus, ...(await scanPages(10, 6))];
    const id = await platform.submit(files, { pipeline: 'preprocess,ocr,nlp,validate' });
    return await outcome(
      platform,
      `CPU hog, 4 busy processes per core (${corpus.length} corpus files + 10 pages)`,
      id,
      files.length,
      [],
      started,
      900_000,
    );
  } finally {
    await hog.stop();
    await platform.stop();
  }
}

async function workerKills(): Promise<Outcome> {
  const platform = new PlatformUnderTest();
  try {
    await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp'], { instances: { 'worker-ocr': 2 } });
    await platform.workersUp('ocr', 2);
    const started = Date.now();
    const id = await platform.submit(await scanPages(20, 10), { pipeline: 'ocr,nlp' });
    const queue = new Queue(queueName('ocr'), { connection: platform.redis, prefix: platform.prefix });
    const recoveries: number[] = [];
    for (let kill = 0; kill < 3; kill++) {
      await sleep(3000);
      const [active] = await queue.getActive();
      const pid = Number(/pid (\d+)/.exec(active?.processedBy ?? '')?.[1]);
      if (!active || !pid) continue;
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(
        async () => {
          const job = await Job.fromId(queue, active.id!);
          return !job || (job.processedOn ?? 0) > killedAt || job.finishedOn ? true : undefined;
        },
        60_000,
        'the killed task to run again',
      );
      recoveries.push((Date.now() - killedAt) / 1000);
    }
    await queue.close();
    return await outcome(platform, 'OCR workers SIGKILLed, 3 times', id, 20, recoveries, started, 300_000);
  } finally {
    await platform.stop();
  }
}

async function masterKill(): Promise<Outcome> {
  if (!hasRedisSentinel()) return skipped('Redis master SIGKILLed (Sentinel)', 'no redis-sentinel');
  const group = await startSentinelGroup(await freePort());
  const platform = new PlatformUnderTest(
    { DOCPROC_REDIS_SENTINELS: group.sentinels.join(','), DOCPROC_REDIS_MASTER: group.master },
    `redis://127.0.0.1:${group.masterPort}`,
  );
  try {
    await platform.start(['orchestrator', 'worker-ocr', 'worker-nlp']);
    await platform.workersUp('ocr', 1);
    const started = Date.now();
    const id = await platform.submit(await scanPages(12, 6), { pipeline: 'ocr,nlp' });
    await waitFor(async () => ((await platform.status(id)).progress.completed >= 2 ? true : undefined), 120_000, 'some documents done');
    const killedAt = Date.now();
    await group.killMaster();
    const recovery = await untilNextCompletion(platform, killedAt);
    return await outcome(platform, 'Redis master SIGKILLed (Sentinel)', id, 12, [recovery], started, 300_000);
  } finally {
    await platform.stop();
    await group.stop();
  }
}

async function frozenConnections(): Promise<Outcome> {
  const redis = await startRedisServer();
  const proxy = await startFreezableProxy(redis.port);
  const platform = new PlatformUnderTest({}, `redis://127.0.0.1:${proxy.port}`);
  try {
    await platform.start(['orchestrator', 'worker-nlp', 'worker-validation']);
    await platform.workersUp('validate', 1);
    const started = Date.now();
    const id = await platform.submit(texts(200), { pipeline: 'nlp,validate' });
    await waitFor(async () => ((await platform.status(id)).progress.completed >= 5 ? true : undefined), 60_000, 'some documents done');
    const frozenAt = Date.now();
    const frozen = proxy.freeze();
    const recovery = await untilNextCompletion(platform, frozenAt);
    await waitFor(async () => (proxy.frozenOpen === 0 ? true : undefined), 60_000, 'every frozen connection noticed');
    const noticed = (Date.now() - frozenAt) / 1000;
    const result = await outcome(platform, 'every Redis connection frozen', id, 200, [recovery], started, 300_000);
    return { ...result, note: `${frozen} connections frozen; the last noticed after ${noticed.toFixed(1)} s` };
  } finally {
    await platform.stop();
    await proxy.close();
    redis.admin.disconnect();
    await redis.stop();
  }
}

async function redisFull(): Promise<Outcome> {
  const redis = await startRedisServer();
  const platform = new PlatformUnderTest({ DOCPROC_SHORTAGE_RETRY_MS: '1000' }, redis.url);
  try {
    await platform.start(['orchestrator', 'worker-nlp', 'worker-validation']);
    await platform.workersUp('validate', 1);
    const started = Date.now();
    const id = await platform.submit(texts(200), { pipeline: 'nlp,validate' });
    await waitFor(async () => ((await platform.status(id)).progress.completed >= 5 ? true : undefined), 60_000, 'some documents done');
    await redis.admin.config('SET', 'maxmemory', '1');
    await sleep(8000);
    await redis.admin.config('SET', 'maxmemory', '0');
    const recovery = await untilNextCompletion(platform, Date.now());
    return await outcome(platform, 'Redis at maxmemory for 8 s', id, 200, [recovery], started, 300_000);
  } finally {
    await platform.stop();
    redis.admin.disconnect();
    await redis.stop();
  }
}

async function diskFull(): Promise<Outcome> {
  const mountPoint = mkdtempSync(join(tmpdir(), 'docproc-chaos-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300m', 'tmpfs', mountPoint], { stdio: 'ignore' });
  } catch {
    return skipped('data disk full for 6 s', 'not root: no tmpfs to fill');
  }
  const platform = new PlatformUnderTest({ DOCPROC_DATA_DIR: join(mountPoint, 'data'), DOCPROC_SHORTAGE_RETRY_MS: '1000' });
  try {
    await platform.start(['orchestrator', 'worker-preprocessing']);
    await platform.workersUp('preprocess', 1);
    const started = Date.now();
    const id = await platform.submit(await scanPages(16, 8), { pipeline: 'preprocess' });
    const filler = join(mountPoint, 'filler');
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1]) {
      try {
        for (;;) writeFileSync(filler, Buffer.alloc(size, 1), { flag: 'a' });
      } catch {
        // full at this size: go on with a smaller one
      }
    }
    await sleep(6000);
    rmSync(filler);
    const recovery = await untilNextCompletion(platform, Date.now());
    return await outcome(platform, 'data disk full for 6 s', id, 16, [recovery], started, 300_000);
  } finally {
    await platform.stop();
    execFileSync('umount', [mountPoint]);
  }
}

async function orchestratorKill(): Promise<Outcome> {
  const documents = 5000;
  const platform = new PlatformUnderTest({ DOCPROC_MAX_EVENTS_PER_JOB: '100000' });
  const redisProxy = await startFreezableProxy(6379);
  // 25 ms each way: the victim's fan-out takes seconds, so its kill lands mid-way.
  redisProxy.delay(25);
  try {
    const groups: { port: number; group: { kill(): void } }[] = [];
    for (let i = 0; i < 3; i++) {
      const port = i === 0 ? 0 : await freePort();
      const env: Record<string, string> = i === 0 ? { REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` } : { PORT: String(port) };
      const group = await platform.start(['orchestrator'], { env });
      if (port) await orchestratorReady(`http://127.0.0.1:${port}`);
      groups.push({ port: port || Number(new URL(platform.base).port), group });
    }
    await platform.start(['worker-validation']);
    await platform.workersUp('validate', 1);
    let killedAt = 0;
    let fanningAtKill: Promise<string[]> | undefined;
    const fanningOut = recordKeys(platform.prefix).fanningOut;
    const proxy = await startRoundRobinProxy(
      groups.map((g) => g.port),
      ({ method, status }) => {
        if (method !== 'POST' || status !== 202 || killedAt) return;
        redisProxy.freeze(); // its fan-out stops where it is
        groups[0]!.group.kill();
        killedAt = Date.now();
        fanningAtKill = platform.redis.smembers(fanningOut);
      },
    );
    platform.base = proxy.url;
    const started = Date.now();
    const id = await platform.submit(texts(documents), { pipeline: 'validate' });
    const midWay = (await fanningAtKill)?.includes(id) ?? false;
    await waitFor(async () => ((await platform.redis.sismember(fanningOut, id)) === 0 ? true : undefined), 60_000, 'the fan-out resumed');
    const recovery = (Date.now() - killedAt) / 1000;
    const result = await outcome(platform, 'an orchestrator SIGKILLed mid fan-out (1 of 3)', id, documents, [recovery], started, 300_000);
    await proxy.close();
    return {
      ...result,
      note: midWay ? 'recovery: the kill to the fan-out finished by a survivor' : 'the fan-out was done before the kill: nothing to resume',
    };
  } finally {
    await platform.stop();
    await redisProxy.close();
  }
}

function skipped(scenario: string, why: string): Outcome {
  return { scenario, accepted: 0, completed: 0, failed: 0, lost: 0, runTwice: 0, worstRecoverySeconds: null, seconds: 0, note: `skipped: ${why}` };
}

const SCENARIOS: Record<string, () => Promise<Outcome>> = {
  hog: cpuHog,
  'worker-kill': workerKills,
  'master-kill': masterKill,
  freeze: frozenConnections,
  'redis-full': redisFull,
  'disk-full': diskFull,
  'orchestrator-kill': orchestratorKill,
};

async function main(): Promise<void> {
  const chosen = process.env.BENCH_SCENARIOS?.split(',') ?? Object.keys(SCENARIOS);
  const results: Outcome[] = [];
  for (const name of chosen) {
    const scenario = SCENARIOS[name];
    if (!scenario) throw new Error(`no scenario "${name}"; there are ${Object.keys(SCENARIOS).join(', ')}`);
    process.stdout.write(`${name} ...\n`);
    results.push(await scenario());
  }
  const header = ['scenario', 'accepted', 'completed', 'failed', 'lost', 'run twice', 'worst recovery (s)', 'took (s)'];
  const rows = results.map((r) => [
    r.scenario,
    r.accepted,
    r.completed,
    r.failed,
    r.lost,
    r.runTwice,
    r.worstRecoverySeconds === null ? '—' : r.worstRecoverySeconds.toFixed(1),
    r.seconds,
  ]);
  process.stdout.write(`\n| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  for (const r of results.filter((r) => r.note)) process.stdout.write(`- ${r.scenario}: ${r.note}\n`);
  // Promises kept: nothing lost, nothing wrongly failed, nothing run twice.
  const broken = results.filter((r) => r.lost > 0 || r.failed > 0);
  process.exitCode = broken.length > 0 ? 1 : 0;
}

void main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
