/**
 * pnpm bench:autoscale [pages] — bursts of real scanned pages through `docproc up`,
 * four ways: the autoscaler (pools from min 1 for preprocessing and OCR and 0 for the
 * rest, or 0 for all, to max), every pool fixed at that max, and every pool fixed at one. Each run: a burst of N pages (default 60: the
 * corpus's scans, cycled) through the whole pipeline, a quiet spell, a second burst.
 *
 * It prints, side by side: the time each burst took to drain (submit to job end), and
 * the worker-seconds spent (worker processes alive, sampled every 250 ms, from the first
 * submit to the second burst's end). Goal: the autoscaler drains within 1.2x the fixed
 * max pool's time with at most 0.6x its worker-seconds.
 *
 * Env: BENCH_PAGES, BENCH_QUIET_SECONDS (default 90), BENCH_INTERVAL (autoscaler look, default 5).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CLI, CORPUS_DIR, corpusAvailable, launch, processesOf, renderTextPng, untilReady, waitFor, whenAllExited } from '@docproc/testkit';

const pages = Number(process.argv[2] ?? process.env.BENCH_PAGES ?? 60);
const quietSeconds = Number(process.env.BENCH_QUIET_SECONDS ?? 90);
const interval = process.env.BENCH_INTERVAL ?? '5';
const cores = availableParallelism();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Real scans from the corpus, or rendered noisy pages where it is absent. */
async function scannedPages(): Promise<{ name: string; bytes: Buffer }[]> {
  const scans = corpusAvailable()
    ? ['baiona.png', 'crom.png', 'typewriter.png'].map((name) => ({ name, bytes: readFileSync(join(CORPUS_DIR, name)) }))
    : [{ name: 'rendered.png', bytes: await renderTextPng(['A scanned page of a letter', 'with a second line of text'], { noise: 0.02 }) }];
  return Array.from({ length: pages }, (_, i) => ({ name: `${i}-${scans[i % scans.length]!.name}`, bytes: scans[i % scans.length]!.bytes }));
}

interface Scenario {
  name: string;
  env: Record<string, string>;
}

const MAX = `preprocess=${cores},ocr=${cores},nlp=1,validate=1`;
const SCENARIOS: Scenario[] = [
  { name: 'autoscaled (min 1,1,0,0)', env: { DOCPROC_POOL_MIN: 'preprocess=1,ocr=1,nlp=0,validate=0', DOCPROC_POOL_MAX: MAX } },
  { name: 'autoscaled (min 0)', env: { DOCPROC_POOL_MIN: '0', DOCPROC_POOL_MAX: MAX } },
  { name: 'fixed at max', env: { DOCPROC_POOL_MIN: MAX, DOCPROC_POOL_MAX: MAX } },
  { name: 'fixed at min (1 each)', env: { DOCPROC_POOL_MIN: '1', DOCPROC_POOL_MAX: '1' } },
];

async function runScenario(scenario: Scenario, documents: { name: string; bytes: Buffer }[]) {
  const run = await launch([process.execPath, CLI, 'up'], { DOCPROC_AUTOSCALE_INTERVAL: interval, LOG_LEVEL: 'warn', ...scenario.env });
  try {
    await untilReady(run);
    const base = `http://127.0.0.1:${run.apiPort}`;
    const workers = () => processesOf(run).filter((p) => p.includes('/apps/worker-')).length;

    let workerSeconds = 0;
    let peak = 0;
    let sampling = false;
    let last = Date.now();
    const sampler = setInterval(() => {
      const now = Date.now();
      const alive = workers();
      if (sampling) workerSeconds += (alive * (now - last)) / 1000;
      peak = Math.max(peak, alive);
      last = now;
    }, 250);

    const burst = async () => {
      const form = new FormData();
      for (const d of documents) form.append('files', new Blob([d.bytes]), d.name);
      const started = Date.now();
      sampling = true;
      const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
      if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      const status = await waitFor(
        async () => {
          const body = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { status: string };
          return ['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(body.status) ? body.status : undefined;
        },
        30 * 60_000,
        'the burst to drain',
      );
      return { seconds: (Date.now() - started) / 1000, status };
    };

    const first = await burst();
    await sleep(quietSeconds * 1000);
    const inQuiet = workers();
    const second = await burst();
    clearInterval(sampler);
    return { first, second, workerSeconds, peak, inQuiet };
  } finally {
    process.kill(run.child.pid!, 'SIGTERM');
    const left = await whenAllExited(run, 60_000);
    if (left.length) process.stderr.write(`left behind: ${left.join(', ')}\n`);
  }
}

async function main() {
  const documents = await scannedPages();
  console.log(
    `bench:autoscale — ${pages} ${corpusAvailable() ? 'corpus scans' : 'rendered pages'} per burst (preprocess, ocr, nlp, validate), quiet ${quietSeconds} s, ` +
      `autoscaler every ${interval} s, ${cores} cores, max ${MAX}`,
  );
  const results: { name: string; r: Awaited<ReturnType<typeof runScenario>> }[] = [];
  for (const scenario of SCENARIOS) {
    const r = await runScenario(scenario, documents);
    results.push({ name: scenario.name, r });
    console.log(
      `  ${scenario.name}: bursts ${r.first.seconds.toFixed(1)} s + ${r.second.seconds.toFixed(1)} s (${r.first.status}, ${r.second.status}), ` +
        `${r.workerSeconds.toFixed(0)} worker-seconds; at most ${r.peak} workers, ${r.inQuiet} at the end of the quiet`,
    );
  }
  const baseline = results.find((x) => x.name === 'fixed at max')!.r;
  const drain = (r: typeof baseline) => r.first.seconds + r.second.seconds;
  console.log('\n| pools | burst 1 (s) | burst 2 (s) | drain vs fixed max | worker-seconds | vs fixed max |\n| --- | --- | --- | --- | --- | --- |');
  for (const { name, r } of results) {
    console.log(
      `| ${name} | ${r.first.seconds.toFixed(1)} | ${r.second.seconds.toFixed(1)} | ${(drain(r) / drain(baseline)).toFixed(2)}x | ${r.workerSeconds.toFixed(0)} | ${(r.workerSeconds / baseline.workerSeconds).toFixed(2)}x |`,
    );
  }
}

void main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
