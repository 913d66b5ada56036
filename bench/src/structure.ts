/**
 * pnpm bench:structure — how well docproc reads a document's structure, through the whole
 * platform (`docproc up`, options.output ["layout"]), against documents whose structure is
 * known (testkit's structuredDocument: headings, paragraphs, a list, two columns, a ruled
 * table with spanning heads, a table set by whitespace, running heads and page numbers) in
 * English, French and German, each as a text PDF, as an upright scan and as a scan turned
 * by 1.5°. Per kind and language:
 *   - reading order: 1 - normalised edit distance of the body blocks' order, beside what a
 *     reader had without layout (text PDFs: poppler's pdftotext; scans: docproc's OCR text,
 *     blocks as Tesseract separates them);
 *   - headings: precision and recall (texts 0.8 alike), and the share at the right level;
 *   - tables: cells with the exact text in the right row and column, and TEDS;
 *   - running heads and page numbers kept apart from the body.
 * Targets: reading order ≥ 0.95, headings P/R ≥ 0.9, cells ≥ 0.9 (text) / ≥ 0.85 (scans).
 *
 * Env: BENCH_STRUCTURE_SEEDS (documents per kind and language, default 2).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Layout } from '@docproc/catalog';
import {
  CLI,
  cellCounts,
  headingCounts,
  layoutBody,
  readingOrderScore,
  truthBody,
  launch,
  scannedCopy,
  structuredDocument,
  untilReady,
  waitFor,
  whenAllExited,
  type StructuredDocument,
  type StructuredLanguage,
} from '@docproc/testkit';

import { languagesBench } from './structure-languages';

const SEEDS = Number(process.env.BENCH_STRUCTURE_SEEDS ?? 2);
const LANGUAGES: StructuredLanguage[] = ['eng', 'fra', 'deu'];
type Kind = 'text' | 'scan' | 'skewed';

interface Sample {
  kind: Kind;
  truth: StructuredDocument;
  bytes: Buffer;
  name: string;
}

interface Row {
  order: number[];
  baseline: number[];
  headings: { found: number; expected: number; matched: number; levelRight: number };
  cells: { right: number; total: number };
  teds: number[];
  margins: { kept: number; total: number };
  /** OCR pages read with their own language's model, picked without being told. */
  languages: { right: number; total: number };
}

/** What a reader had without layout: poppler's pdftotext of a text PDF, in its blank-line-separated blocks. */
function pdftotextBlocks(pdf: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bench-structure-'));
  try {
    writeFileSync(join(dir, 'in.pdf'), pdf);
    return blocksOf(execFileSync('pdftotext', [join(dir, 'in.pdf'), '-'], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const blocksOf = (text: string) =>
  text
    .split(/\n\s*\n|\f/)
    .map((b) => b.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const f2 = (x: number) => (Number.isNaN(x) ? '   —' : x.toFixed(2));

async function main(): Promise<void> {
  const samples: Sample[] = [];
  for (const language of LANGUAGES)
    for (let seed = 1; seed <= SEEDS; seed++) {
      const truth = await structuredDocument(language, seed);
      samples.push({ kind: 'text', truth, bytes: truth.pdf, name: `${language}-${seed}-text.pdf` });
      samples.push({ kind: 'scan', truth, bytes: await scannedCopy(truth.pdf), name: `${language}-${seed}-scan.pdf` });
      samples.push({
        kind: 'skewed',
        truth,
        bytes: await scannedCopy(truth.pdf, { skew: seed % 2 ? 1.5 : -1.5 }),
        name: `${language}-${seed}-skewed.pdf`,
      });
    }
  const pages = samples.reduce((n, s) => n + s.truth.pages, 0);
  console.log(
    `bench:structure — ${samples.length} documents (${pages} pages): ${LANGUAGES.join(', ')} x ${SEEDS} x text PDF, upright scan, scan turned 1.5°`,
  );

  const platform = await launch([process.execPath, CLI, 'up'], { LOG_LEVEL: 'warn' });
  const base = `http://127.0.0.1:${platform.apiPort}`;
  const rows = new Map<string, Row>();
  const started = Date.now();
  try {
    await untilReady(platform);
    const jobs = await Promise.all(
      LANGUAGES.map(async (language) => {
        const form = new FormData();
        for (const s of samples.filter((x) => x.truth.language === language)) form.append('files', new Blob([s.bytes]), s.name);
        // no languages: each page's model is picked from its text
        form.append('options', JSON.stringify({ output: ['layout'] }));
        const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
        if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    for (const id of jobs) {
      await waitFor(
        async () => ((await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
        3_600_000,
        `job ${id}`,
      );
      const { documents } = (await (await fetch(`${base}/v1/jobs/${id}/results?limit=1000`)).json()) as {
        documents: {
          documentId: string;
          name: string;
          status: string;
          steps: { ocr: { text: string; pages: { source: string; languages?: string[] }[] } | null };
        }[];
      };
      for (const doc of documents) {
        const sample = samples.find((s) => s.name === doc.name)!;
        if (doc.status !== 'completed') throw new Error(`${doc.name}: ${doc.status}`);
        const layout = (await (await fetch(`${base}/v1/jobs/${id}/documents/${doc.documentId}/layout`)).json()) as Layout;
        const key = `${sample.kind} ${sample.truth.language}`;
        const row = rows.get(key) ?? {
          order: [],
          baseline: [],
          headings: { found: 0, expected: 0, matched: 0, levelRight: 0 },
          cells: { right: 0, total: 0 },
          teds: [],
          margins: { kept: 0, total: 0 },
          languages: { right: 0, total: 0 },
        };
        rows.set(key, row);
        const truthOrder = truthBody(sample.truth.blocks);
        row.order.push(readingOrderScore(truthOrder, layoutBody(layout)));
        const before = sample.kind === 'text' ? pdftotextBlocks(sample.bytes) : blocksOf(doc.steps.ocr?.text ?? '');
        row.baseline.push(readingOrderScore(truthOrder, before));
        const h = headingCounts(sample.truth.blocks, layout);
        for (const k of ['found', 'expected', 'matched', 'levelRight'] as const) row.headings[k] += h[k];
        const c = cellCounts(sample.truth.tables, layout);
        row.cells.right += c.right;
        row.cells.total += c.total;
        row.teds.push(...c.teds);
        const margins = sample.truth.blocks.filter((b) => ['header', 'footer', 'page_number'].includes(b.type));
        const kept = layout.pages.flatMap((p) => p.blocks.filter((b) => ['header', 'footer', 'page_number'].includes(b.type)).map((b) => b.text));
        const ocrPages = (doc.steps.ocr?.pages ?? []).filter((p) => p.source === 'ocr');
        row.languages.total += ocrPages.length;
        row.languages.right += ocrPages.filter((p) => p.languages?.join('+') === sample.truth.language).length;
        row.margins.total += margins.length;
        row.margins.kept += margins.filter((m) => kept.some((k) => k.replace(/\s+/g, ' ').trim() === m.text)).length;
      }
    }
    await languagesBench(base);
  } finally {
    platform.child.kill('SIGTERM');
    await whenAllExited(platform);
  }
  console.log(`read in ${((Date.now() - started) / 1000).toFixed(0)} s (platform start included)\n`);
  console.log('kind    lang | order  before | head P  head R  level | cells  TEDS | margins | language picked');
  const totals = new Map<Kind, Row[]>();
  for (const [key, row] of [...rows].sort()) {
    const kind = key.split(' ')[0] as Kind;
    totals.set(kind, [...(totals.get(kind) ?? []), row]);
    const { found, expected, matched, levelRight } = row.headings;
    console.log(
      `${key.padEnd(12)} | ${f2(mean(row.order))}  ${f2(mean(row.baseline))}   | ${f2(matched / found)}    ${f2(matched / expected)}    ${f2(levelRight / matched)}  | ${f2(row.cells.right / row.cells.total)}   ${f2(mean(row.teds))} | ${row.margins.kept}/${row.margins.total}   | ${row.languages.total ? `${row.languages.right}/${row.languages.total} pages` : '—'}`,
    );
  }
  console.log('\nall of a kind (targets: order ≥ 0.95, headings P/R ≥ 0.90, cells ≥ 0.90 text / 0.85 scans)');
  for (const [kind, list] of totals) {
    const sum = (f: (r: Row) => number) => list.reduce((s, r) => s + f(r), 0);
    console.log(
      `${kind.padEnd(7)} | order ${f2(mean(list.flatMap((r) => r.order)))} (before ${f2(mean(list.flatMap((r) => r.baseline)))}) | headings P ${f2(sum((r) => r.headings.matched) / sum((r) => r.headings.found))} R ${f2(sum((r) => r.headings.matched) / sum((r) => r.headings.expected))} | cells ${f2(sum((r) => r.cells.right) / sum((r) => r.cells.total))} TEDS ${f2(mean(list.flatMap((r) => r.teds)))}`,
    );
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
