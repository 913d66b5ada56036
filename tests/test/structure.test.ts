import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  PlatformUnderTest,
  layoutBody,
  readingOrderScore,
  scannedCopy,
  structuredDocument,
  truthBody,
  type StructuredDocument,
} from '@docproc/testkit';

const CLI = resolve(__dirname, '..', '..', 'apps', 'cli', 'dist', 'main.js');

interface LayoutBody {
  pages: { index: number; blocks: { type: string; level?: number; text: string }[] }[];
}

/**
 * A document's structure through the running platform (options.output ["layout"]): a
 * generated report as a text PDF and as a scan, and plain text, read back as layout,
 * Markdown, tables (JSON and CSV) and chunks, and written by `docproc results --out`.
 */
describe('document structure: layout, Markdown, tables and chunks', () => {
  jest.setTimeout(240_000);
  const platform = new PlatformUnderTest();
  let truth: StructuredDocument;
  let batchId: string;
  const ids: Record<string, string> = {};
  const get = (path: string) => fetch(`${platform.base}/v1/jobs/${batchId}/documents/${path}`);

  beforeAll(async () => {
    truth = await structuredDocument('eng', 1);
    await platform.start(['orchestrator', 'worker-preprocessing', 'worker-ocr']);
    batchId = await platform.submit(
      [
        { name: 'report.pdf', bytes: truth.pdf },
        { name: 'report-scan.pdf', bytes: await scannedCopy(truth.pdf, { skew: 1.5 }) },
        { name: 'notes.txt', bytes: Buffer.from('Minutes of the meeting\n\nThe board met on Monday.\n\n- coffee\n- budget') },
      ],
      { pipeline: 'preprocess,ocr', options: JSON.stringify({ output: ['layout'], languages: ['eng'] }) },
    );
    const status = await platform.finished(batchId, 200_000);
    expect(status.status).toBe('completed');
    for (const doc of await platform.documents(batchId)) ids[doc.name] = doc.documentId;
  });
  afterAll(async () => platform.stop());

  it.each(['report.pdf', 'report-scan.pdf'])('%s: headings with their levels, in reading order, margins apart', async (name) => {
    const layout = (await (await get(`${ids[name]}/layout`)).json()) as LayoutBody;
    expect(layout.pages).toHaveLength(truth.pages);
    const headings = layout.pages.flatMap((p) => p.blocks.filter((b) => b.type === 'heading').map((b) => [b.level, b.text]));
    expect(headings).toEqual(truth.blocks.filter((b) => b.type === 'heading').map((b) => [b.level, b.text]));
    for (const page of layout.pages) {
      expect(page.blocks[0]).toMatchObject({ type: 'header', text: 'Harbour Authority' });
      expect(page.blocks.at(-1)).toMatchObject({ type: 'page_number', text: `Page ${page.index + 1}` });
    }
    // blocks in the order they were written: the two columns column by column
    const order = readingOrderScore(truthBody(truth.blocks), layoutBody(layout as never));
    expect(order).toBeGreaterThanOrEqual(name === 'report.pdf' ? 1 : 0.9);
  });

  it('tables come back cell for cell, one as CSV; out of range and bad formats are refused', async () => {
    const { tables } = (await (await get(`${ids['report.pdf']}/tables`)).json()) as { tables: { rows: string[][]; headerRows: number }[] };
    expect(tables.map((t) => t.rows)).toEqual(truth.tables.map((t) => t.rows));
    expect(tables.map((t) => t.headerRows)).toEqual(truth.tables.map((t) => t.headerRows));
    const csv = await get(`${ids['report.pdf']}/tables/1?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(`${truth.tables[1]!.rows.map((r) => r.map((c) => (/[",]/.test(c) ? `"${c}"` : c)).join(',')).join('\r\n')}\r\n`);
    expect((await get(`${ids['report.pdf']}/tables/7`)).status).toBe(404);
    const bad = await get(`${ids['report.pdf']}/tables/0?format=xml`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('Markdown: headings, a list, GFM tables and page comments; plain text as paragraphs', async () => {
    const markdown = await (await get(`${ids['report.pdf']}/markdown`)).text();
    const title = truth.blocks.find((b) => b.type === 'heading' && b.level === 1)!.text;
    expect(markdown).toMatch(new RegExp(`^<!-- page 1 -->\\n\\n# ${title}\\n`));
    expect(markdown).toContain('<!-- page 2 -->');
    expect(markdown).toMatch(/\n- \S/);
    expect(markdown).toMatch(/\n\| Region \| .* \|\n\|( --- \|)+\n/);
    expect(markdown).not.toContain('Harbour Authority\n');
    const notes = await (await get(`${ids['notes.txt']}/markdown`)).text();
    expect(notes).toBe('<!-- page 1 -->\n\nMinutes of the meeting\n\nThe board met on Monday.\n\n- coffee\n- budget\n');
  });

  it('chunks stay within maxTokens, keep their heading path, and never cut a table', async () => {
    const body = (await (await get(`${ids['report.pdf']}/chunks?maxTokens=60`)).json()) as {
      chunks: { text: string; headings: string[]; pages: number[]; tokens: number }[];
    };
    expect(body.chunks.length).toBeGreaterThan(5);
    for (const chunk of body.chunks) {
      if (!chunk.text.includes('| --- |')) expect(chunk.tokens).toBeLessThanOrEqual(60);
      expect(chunk.pages.length).toBeGreaterThan(0);
    }
    const tableChunks = body.chunks.filter((c) => c.text.includes('| --- |'));
    expect(tableChunks).toHaveLength(truth.tables.length);
    for (const c of tableChunks) expect(c.headings.length).toBeGreaterThanOrEqual(2);
    expect((await get(`${ids['report.pdf']}/chunks?maxTokens=3`)).status).toBe(400);
  });

  it('a job that did not ask for layout says how to; docproc results --out writes <stem>.md', async () => {
    const plain = await platform.submit([{ name: 'a.txt', bytes: Buffer.from('Just text.') }], { pipeline: 'preprocess,ocr' });
    await platform.finished(plain, 60_000);
    const [doc] = await platform.documents(plain);
    const res = await fetch(`${platform.base}/v1/jobs/${plain}/documents/${doc!.documentId}/markdown`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/"output": \["layout"\]/);

    const out = join(mkdtempSync(join(tmpdir(), 'docproc-structure-')), 'out');
    const child = spawn(process.execPath, [CLI, 'results', batchId, '--out', out], {
      env: { ...process.env, DOCPROC_URL: platform.base },
      stdio: 'ignore',
    });
    expect(await new Promise((done) => child.on('close', done))).toBe(0);
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.md'))
        .sort(),
    ).toEqual(['notes.md', 'report-scan.md', 'report.md']);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(await (await get(`${ids['report.pdf']}/markdown`)).text());
  });
});
