import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { readEvents, recordKeys } from '@docproc/batches';
import {
  PROSE_LINES,
  corpusAvailable,
  corpusExpected,
  corpusFile,
  makePdf,
  missingWords,
  renderTextPng,
  startCpuHog,
  waitFor,
  type CpuHog,
  PlatformUnderTest,
} from '@docproc/testkit';

const PROSE = PROSE_LINES.slice(0, 5);

/** A scanned multi-page PDF: one greyscale JPEG per page, each turned a little. */
async function generatedScan(name: string, turns: number[]): Promise<{ name: string; bytes: Buffer }> {
  const pages = [];
  for (const rotate of turns) {
    const png = await renderTextPng(PROSE, { fontSize: 36, width: 2400, rotate });
    const { data, info } = await sharp(png).greyscale().jpeg({ quality: 85 }).toBuffer({ resolveWithObject: true });
    pages.push({ kind: 'image' as const, jpeg: data, width: info.width, height: info.height, dpi: 300 });
  }
  return { name, bytes: makePdf(pages) };
}

/** How many times each task ran, from the task spans in the batch's events: "document step page" → runs. */
async function runsPerTask(platform: PlatformUnderTest, id: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  for (const event of await readEvents(platform.redis, recordKeys(platform.prefix).events(id), '0', 100_000)) {
    if (event.type !== 'task') continue;
    const key = `${String(event.data.document)} ${String(event.data.step)} ${String(event.data.page ?? '')}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
  }
  return runs;
}

/** Every document's error history (failed attempts and crashes), by document id. */
async function histories(platform: PlatformUnderTest, documentIds: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const documentId of documentIds) {
    const entries = await platform.redis.lrange(recordKeys(platform.prefix).failedAttempts(documentId), 0, -1);
    if (entries.length > 0) out[documentId] = entries.map((json) => `${JSON.parse(json).code}: ${JSON.parse(json).message}`);
  }
  return out;
}

describe('under a CPU hog: four busy processes per core', () => {
  let hog: CpuHog;
  let platform: PlatformUnderTest | undefined;
  beforeAll(() => {
    hog = startCpuHog(4);
    process.stdout.write(`CPU hog: ${hog.processes} busy processes (${hog.tool})\n`);
  });
  afterEach(async () => {
    await platform?.stop();
    platform = undefined;
  });
  afterAll(async () => hog.stop());

  it('reads the corpus and generated multi-page scans: no document worker_crashed, no task run twice, every document right', async () => {
    platform = new PlatformUnderTest();
    await platform.start(['orchestrator', 'worker-preprocessing', 'worker-ocr', 'worker-nlp', 'worker-validation'], {
      instances: { 'worker-ocr': 2 },
    });
    const expected = corpusAvailable() ? corpusExpected() : {};
    const files: { name: string; bytes: Buffer }[] = Object.keys(expected).map((name) => ({ name, bytes: readFileSync(corpusFile(name)) }));
    files.push(await generatedScan('scan-a.pdf', [3, -2, 1]), await generatedScan('scan-b.pdf', [-4, 2, 0, 2]));
    const started = Date.now();
    const id = await platform.submit(files);
    const ended = await platform.finished(id, 900_000);
    process.stdout.write(`${files.length} documents under the hog in ${Math.round((Date.now() - started) / 1000)} s\n`);

    const docs = await platform.documents(id);
    expect(docs.filter((d) => d.error?.code === 'worker_crashed')).toEqual([]);
    // nothing failed and went round again, nobody crashed: the error history is empty but for the broken file
    const history = await histories(
      platform,
      docs.filter((d) => d.name !== 'invalid.pdf').map((d) => d.documentId),
    );
    expect(history).toEqual({});
    // each task ran once: one span per document, step and page
    const twice = [...(await runsPerTask(platform, id))].filter(([, runs]) => runs > 1);
    expect(twice).toEqual([]);
    for (const [name, want] of Object.entries(expected)) {
      const doc = docs.find((d) => d.name === name)!;
      if (want.words)
        expect({ name, status: doc.status, missing: missingWords(String(doc.steps.ocr?.text), want.words) }).toEqual({
          name,
          status: 'completed',
          missing: [],
        });
    }
    if (corpusAvailable())
      expect(docs.find((d) => d.name === 'invalid.pdf')).toMatchObject({ status: 'failed', error: { code: 'corrupt_document' } });
    for (const name of ['scan-a.pdf', 'scan-b.pdf']) {
      const doc = docs.find((d) => d.name === name)!;
      expect({ name, status: doc.status, missing: missingWords(String(doc.steps.ocr?.text), ['committee', 'treasurer', 'meeting']) }).toEqual({
        name,
        status: 'completed',
        missing: [],
      });
    }
    expect(ended.progress.failed).toBe(corpusAvailable() ? 1 : 0);
    expect(platform.exits).toEqual([]); // no worker process died
  }, 960_000);

  it('still runs a SIGKILLed worker’s task again within 15 s', async () => {
    platform = new PlatformUnderTest({ DOCPROC_OCR_ENGINE: 'tesseract.js' });
    await platform.start(['orchestrator', 'worker-ocr'], { instances: { 'worker-ocr': 2 } });
    await platform.workersUp('ocr', 2);
    const pages = [];
    for (let i = 0; i < 6; i++) pages.push({ name: `p${i}.png`, bytes: await renderTextPng([`Page ${i} under load`, ...PROSE], { width: 1600 }) });
    const id = await platform.submit(pages, { pipeline: 'ocr' });
    const ocr = new Queue('ocr', { connection: platform.redis, prefix: platform.prefix });
    const pidOf = (by: string | undefined) => Number(/pid[ _](\d+)/.exec(by ?? '')?.[1]);
    const job = await waitFor(async () => (await ocr.getActive()).find((j) => pidOf(j.processedBy) > 0), 120_000, 'a running OCR task');
    const killedAt = Date.now();
    process.kill(pidOf(job.processedBy), 'SIGKILL');
    const again = await waitFor(
      async () => {
        const now = await ocr.getJob(job.id!);
        return now && (now.processedOn ?? 0) > killedAt ? now : undefined;
      },
      60_000,
      'the task to run again',
    );
    const recovery = again.processedOn! - killedAt;
    process.stdout.write(`recovery after SIGKILL under the hog: ${recovery} ms\n`);
    expect(recovery).toBeLessThan(15_000);
    const ended = await platform.finished(id, 300_000);
    expect(ended).toMatchObject({ status: 'completed', progress: { completed: 6, failed: 0 } });
    const history = (await platform.documents(id)).flatMap((d) => (d.error ? [d.error.code] : []));
    expect(history).toEqual([]);
    await ocr.close();
  }, 420_000);
});
