import { CLI, launch, processesOf, renderTextPng, untilReady, waitFor, whenAllExited, type Launch } from '@docproc/testkit';

/** Seconds between the autoscaler's looks in this test. */
const INTERVAL = 1;

interface Stats {
  workers: { pool: string; pid: number; active: number }[];
  autoscaler: null | {
    at: string;
    pools: Record<string, { actual: number; desired: number; kind: string; reason: string; restarts?: number; draining?: number }>;
  };
}

describe('the local autoscaler under docproc up (real processes, real Redis)', () => {
  jest.setTimeout(240_000);
  let run: Launch;
  const base = () => `http://127.0.0.1:${run.apiPort}`;
  const stats = async () => (await (await fetch(`${base()}/api/stats`)).json()) as Stats;
  const ocrProcesses = () => processesOf(run).filter((p) => p.includes('worker-ocr/dist/main.js'));
  const metric = async (pattern: RegExp) => Number(pattern.exec(await (await fetch(`${base()}/metrics`)).text())?.[1] ?? 0);

  beforeAll(async () => {
    run = await launch([process.execPath, CLI, 'up'], {
      DOCPROC_AUTOSCALE_INTERVAL: String(INTERVAL),
      DOCPROC_POOL_MIN: 'ocr=1',
      DOCPROC_POOL_MAX: 'ocr=3',
      DOCPROC_POOL_CPU_LIMIT: '0', // two cores here: let the pool reach its max regardless
      DOCPROC_POOL_TARGET_LATENCY: 'ocr=5',
      DOCPROC_AUTOSCALE_DOWN_STABILIZATION: '4',
      DOCPROC_AUTOSCALE_COOLDOWN: '2',
      DOCPROC_HEARTBEAT_MS: '1000',
    });
    await untilReady(run);
  });

  afterAll(async () => {
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await whenAllExited(run)).toEqual([]);
  });

  it('grows the OCR pool from 1 to its max within two looks, replaces a worker killed mid-task, reads every page once, and drains back to min', async () => {
    expect(ocrProcesses()).toHaveLength(1);
    const page = await renderTextPng(['A page for the autoscaler to read'], { width: 900 });
    const form = new FormData();
    for (let i = 0; i < 100; i++) form.append('files', new Blob([page]), `page-${i}.png`);
    form.append('pipeline', 'ocr');
    const res = await fetch(`${base()}/v1/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    const submittedAt = Date.now();
    const { id } = (await res.json()) as { id: string };

    // Up at once: the first look that sees the backlog asks for the max.
    const grown = await waitFor(
      async () => {
        const s = await stats();
        return s.autoscaler?.pools.ocr?.desired === 3 ? s.autoscaler : undefined;
      },
      15_000,
      'the OCR pool to be asked to grow',
    );
    const grewAfterMs = Date.parse(grown.at) - submittedAt;
    expect(grewAfterMs).toBeLessThanOrEqual(2 * INTERVAL * 1000 + 500);
    expect(grown.pools.ocr!.reason).toMatch(/^up 1 → 3/);
    await waitFor(async () => (ocrProcesses().length === 3 ? true : undefined), 10_000, 'three OCR processes');

    // A worker killed mid-task is started again, and counted.
    const busy = await waitFor(async () => (await stats()).workers.find((w) => w.pool === 'ocr' && w.active > 0), 10_000, 'a busy OCR worker');
    process.kill(busy.pid, 'SIGKILL');
    await waitFor(
      async () => {
        const s = await stats();
        const pids = ocrProcesses().map((p) => Number(p.split(' ')[0]));
        return (s.autoscaler?.pools.ocr?.restarts ?? 0) >= 1 && pids.length >= 2 && !pids.includes(busy.pid) ? true : undefined;
      },
      20_000,
      'the killed worker to be replaced',
    );

    // Every page read, each exactly once (the killed attempt counts as crashed, not read).
    const job = await waitFor(
      async () => {
        const body = (await (await fetch(`${base()}/v1/jobs/${id}`)).json()) as { status: string; progress: { completed: number } };
        return ['completed', 'completed_with_errors', 'failed'].includes(body.status) ? body : undefined;
      },
      180_000,
      'the job to end',
    );
    const readInMs = Date.now() - submittedAt;
    expect(job).toMatchObject({ status: 'completed', progress: { completed: 100 } });
    expect(await metric(/^docproc_tasks_total\{step="ocr",outcome="completed"\} (\d+)$/m)).toBe(100);

    // Back to min once the work is done: the extra workers drain and exit; none is killed.
    await waitFor(
      async () => {
        const ocr = (await stats()).autoscaler?.pools.ocr;
        return ocr?.actual === 1 && ocr.draining === 0 && ocrProcesses().length === 1 ? true : undefined;
      },
      30_000,
      'the OCR pool back at its minimum',
    );
    console.log(
      `autoscale: 1 → 3 decided ${grewAfterMs} ms after the submit; 100 pages read in ${(readInMs / 1000).toFixed(1)} s; ` +
        `back at 1 worker ${((Date.now() - submittedAt - readInMs) / 1000).toFixed(1)} s after that`,
    );
    const log = run.output();
    expect(log).toMatch(/ocr pool down [23] → 1/);
    expect(log.match(/worker-ocr\.\d+ exited \(SIGKILL\)/g)).toHaveLength(1); // the one this test killed
  });
});
