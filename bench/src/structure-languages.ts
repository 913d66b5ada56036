/**
 * The languages part of bench:structure: pages in English, French, German, Spanish,
 * Italian, Dutch and Portuguese, rendered and turned 1° as scans, read by the running
 * platform twice — a job per language that names it, then one job that names none (each
 * page read with the default model first, its language picked from its text) — for
 * character error rate, the language picked and the time OCR took a page.
 */
import { characterErrorRate, renderTextPng, seededRandom, structuredDocument, waitFor, type StructuredLanguage } from '@docproc/testkit';
import { languageSamples } from './language-samples';

const PAGES = Number(process.env.BENCH_LANGUAGE_PAGES ?? 3);
const LANGUAGES = ['eng', 'fra', 'deu', 'spa', 'ita', 'nld', 'por'];

/** Text wrapped to lines of about 60 characters, as a page sets it. */
function wrapped(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + word.length > 60) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return line === '' ? lines : [...lines, line];
}

async function texts(language: string): Promise<string[]> {
  if (['eng', 'fra', 'deu'].includes(language)) {
    const out: string[] = [];
    for (let seed = 1; out.length < PAGES; seed++) {
      const doc = await structuredDocument(language as StructuredLanguage, seed + 10);
      out.push(
        doc.blocks
          .filter((b) => b.type === 'paragraph')
          .slice(0, 3)
          .map((b) => b.text)
          .join(' '),
      );
    }
    return out;
  }
  return languageSamples(language, PAGES, seededRandom(7)).map((t) => `${t} ${languageSamples(language, 1, seededRandom(t.length))[0]}`);
}

const normal = (s: string) => s.replace(/\s+/g, ' ').trim();

interface Read {
  name: string;
  text: string;
  languages: string[];
  ms: number;
}

/** Submits the pages as one job (ocr only) and waits; each page's text, the models it was read with, and OCR's time for it. */
async function readJob(base: string, pages: { name: string; png: Buffer }[], languages?: string[]): Promise<Read[]> {
  const form = new FormData();
  for (const page of pages) form.append('files', new Blob([page.png]), page.name);
  form.append('pipeline', 'preprocess,ocr');
  if (languages) form.append('options', JSON.stringify({ languages }));
  const res = await fetch(`${base}/v1/jobs`, { method: 'POST', body: form });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  await waitFor(
    async () => ((await (await fetch(`${base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
    1_800_000,
    `job ${id}`,
  );
  const { documents } = (await (await fetch(`${base}/v1/jobs/${id}/results?limit=1000`)).json()) as { documents: { documentId: string }[] };
  return Promise.all(
    documents.map(async ({ documentId }) => {
      const doc = (await (await fetch(`${base}/v1/jobs/${id}/documents/${documentId}`)).json()) as {
        name: string;
        steps: { ocr: { text: string; languages: string[] } };
        tasks: { ocr: { startedAt: string; finishedAt: string } };
      };
      const ms = Date.parse(doc.tasks.ocr.finishedAt) - Date.parse(doc.tasks.ocr.startedAt);
      return { name: doc.name, text: doc.steps.ocr.text, languages: doc.steps.ocr.languages, ms };
    }),
  );
}

export async function languagesBench(base: string): Promise<void> {
  const pages: { name: string; language: string; lines: string[]; png: Buffer }[] = [];
  for (const language of LANGUAGES) {
    for (const [i, text] of (await texts(language)).entries()) {
      const lines = wrapped(text);
      pages.push({ name: `${language}-${i}.png`, language, lines, png: await renderTextPng(lines, { fontSize: 34, width: 2200, rotate: 1 }) });
    }
  }
  // a job per language each way, one after another: the same pages compete for the cores alike
  const given: Read[] = [];
  const picked: Read[] = [];
  for (const language of LANGUAGES) {
    const mine = pages.filter((p) => p.language === language);
    given.push(...(await readJob(base, mine, [language])));
    picked.push(...(await readJob(base, mine)));
  }
  console.log(`\nlanguages — ${PAGES} pages a language, rendered and turned 1°; OCR with the language given, then with none given`);
  console.log('lang | CER given  CER picked  (points) | picked right | OCR ms/page given  picked');
  for (const language of LANGUAGES) {
    const mine = pages.filter((p) => p.language === language);
    const of = (reads: Read[], name: string) => reads.find((r) => r.name === name)!;
    const cer = (reads: Read[]) =>
      mine.reduce((sum, p) => sum + characterErrorRate(normal(of(reads, p.name).text), normal(p.lines.join(' '))), 0) / mine.length;
    const ms = (reads: Read[]) => Math.round(mine.reduce((sum, p) => sum + of(reads, p.name).ms, 0) / mine.length);
    const right = mine.filter((p) => of(picked, p.name).languages.join('+') === language).length;
    const [g, k] = [cer(given), cer(picked)];
    const pct = (x: number) => `${(100 * x).toFixed(2)} %`.padStart(7);
    console.log(
      `${language}  | ${pct(g)}    ${pct(k)}    (${((k - g) * 100).toFixed(2).padStart(5)}) | ${right}/${mine.length}          | ${String(ms(given)).padStart(6)}  ${String(ms(picked)).padStart(6)}`,
    );
  }
}
