/**
 * pnpm bench:preprocess-memory — the preprocessing worker's peak memory with two multi-page
 * scans at once (its default concurrency, 2), as a real process: the orchestrator and one
 * worker-preprocessing (`docproc up`'s launcher), on a Redis server of its own, pipeline
 * `preprocess`. Two sets, each submitted as two documents at once:
 *   A4: two 6-page 300-dpi colour JPEG scans of A4 pages (2480 x 3508), as an office scanner
 *       writes them;
 *   corpus: the corpus's multipage.pdf twice (6 pages, one a 9000 x 9000 RGB image).
 * It samples the resident memory of the worker and its child processes (native Tesseract's
 * orientation detection) every 50 ms and prints the peak, beside the worker's own high-water
 * mark (VmHWM) and its RSS when idle. Target: peak <= 1 GiB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Redis } from 'ioredis';
import { startPlatform } from '@docproc/supervisor';
import { PROSE_LINES, corpusAvailable, corpusFile, freePort, makePdf, orchestratorReady, renderTextPng, waitFor } from '@docproc/testkit';

const MiB = 2 ** 20;

/** Resident bytes of a process and its descendants, now (0 for one that is gone). */
function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const parent = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${name}/status`, 'utf8'))![1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const own = (p: number): number => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      return 0; // gone meanwhile
    }
  };
  const rss = (p: number): number => own(p) + (children.get(p) ?? []).reduce((sum, c) => sum + rss(c), 0);
  return rss(pid);
}

const statusField = (pid: number, field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** A 6-page scan: A4 at 300 dpi, colour JPEG, a page of text each. */
async function a4Scan(): Promise<Buffer> {
  const pages = [];
  for (let i = 0; i < 6; i++) {
    const png = await renderTextPng(PROSE_LINES, { fontSize: 40, width: 2480, rotate: i % 2 ? 1.5 : -1 });
    const { data, info } = await sharp(png)
      .resize({ width: 2480, height: 3508, fit: 'contain', position: 'north', background: '#ffffff' })
      .tint({ r: 250, g: 245, b: 230 })
      .jpeg({ quality: 85 })
      .toBuffer({ resolveWithObject: true });
    pages.push({ kind: 'image' as const, jpeg: data, width: info.width, height: info.height, dpi: 300 });
  }
  return makePdf(pages);
}

async function measure(name: string, files: { name: string; bytes: Buffer }[]) {
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'docproc-bench-memory-'));
  const platform = startPlatform({
    env: { ...process.env, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}`, DOCPROC_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    apps: ['orchestrator', 'worker-preprocessing'],
    onLine: (app, line) => /"level":"error"/.test(line) && process.stderr.write(`${app} | ${line}\n`),
  });
  try {
    await orchestratorReady(base);
    const worker = await waitFor(
      async () => Number(execFileSync('pgrep', ['-n', '-f', 'worker-preprocessing/dist/main.js']).toString().trim()) || undefined,
      30_000,
      'the preprocessing worker',
    );
    const client = new Redis(`redis://127.0.0.1:${redisPort}`);
    await waitFor(async () => ((await client.hlen('{docproc}:workers')) > 0 ? true : undefined), 30_000, 'its heartbeat');
    client.disconnect();
    const idle = statusField(worker, 'VmRSS');
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([file.bytes], { type: 'application/pdf' }), file.name);
    form.append('pipeline', 'preprocess');
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRss(worker))), 50);
    const started = Date.now();
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
    const { id } = (await res.json()) as { id: string };
    const ended = await waitFor(
      async () => {
        const batch = (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { status: string; finishedAt: string | null };
        return batch.finishedAt ? batch : undefined;
      },
      10 * 60_000,
      'the batch',
    );
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    return { name, status: ended.status, seconds, idle, peak, hwm: statusField(worker, 'VmHWM') };
  } finally {
    await platform.stop();
    redis.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const scan = await a4Scan();
  const rows = [
    await measure('two 6-page A4 colour scans (300 dpi JPEG)', [
      { name: 'scan-1.pdf', bytes: scan },
      { name: 'scan-2.pdf', bytes: scan },
    ]),
  ];
  if (corpusAvailable()) {
    const multipage = readFileSync(corpusFile('multipage.pdf'));
    rows.push(
      await measure("the corpus's multipage.pdf twice (one page 9000 x 9000 RGB)", [
        { name: 'multipage-1.pdf', bytes: multipage },
        { name: 'multipage-2.pdf', bytes: multipage },
      ]),
    );
  }
  console.log('');
  console.log('| documents | batch | seconds | worker idle | peak, worker and children | worker high-water mark (VmHWM) |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.status} | ${r.seconds.toFixed(1)} | ${(r.idle / MiB).toFixed(0)} MiB | ${(r.peak / MiB).toFixed(0)} MiB | ${(r.hwm / MiB).toFixed(0)} MiB |`,
    );
  }
  console.log('target: peak <= 1024 MiB');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
