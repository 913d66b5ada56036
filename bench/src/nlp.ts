/**
 * pnpm bench:nlp — what NLP and validation give, measured against known truth, through the
 * whole platform (`docproc up`, OCR included):
 *   1. entities: generated invoices, reminders and letters in English, French and German
 *      (testkit's businessDocuments), each as a page image made to look scanned (specks, turned
 *      by 1-1.5°) and as a text PDF;
 *      precision and recall per entity type and language, and per kind of input;
 *   2. language: texts of 200+ characters in seven languages (the generated letters, and
 *      Spanish, Italian, Dutch and Portuguese letters from language-samples.ts), as plain
 *      text through NLP; accuracy per language;
 *   3. classification: a classifier stored from one set of generated documents (other seed)
 *      labels the OCR'd documents of 1. by kind; accuracy on that held-out set.
 *
 * Env: BENCH_NLP_PER_KIND (documents per kind and language, default 6).
 */
import {
  CLI,
  businessDocuments,
  launch,
  makePdf,
  renderTextPng,
  seededRandom,
  untilReady,
  waitFor,
  whenAllExited,
  type BusinessDocument,
  type BusinessLanguage,
} from '@docproc/testkit';
import { SAMPLE_LANGUAGES, languageSamples } from './language-samples';

const PER_KIND = Number(process.env.BENCH_NLP_PER_KIND ?? 6);
const SCORED = ['date', 'money', 'email', 'iban', 'phone', 'bic'] as const;

interface Entity {
  type: string;
  value: string;
}
interface DocumentResult {
  name: string;
  status: string;
  error: { code: string } | null;
  steps: {
    nlp: { language: string; entities: Entity[]; classification: { label: string } | null } | null;
  };
}

class Platform {
  constructor(readonly base: string) {}

  async submit(files: { name: string; bytes: Buffer }[], fields: Record<string, string>): Promise<string> {
    const form = new FormData();
    for (const file of files) form.append('files', new Blob([file.bytes]), file.name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    const res = await fetch(`${this.base}/v1/jobs`, { method: 'POST', body: form });
    if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  async results(id: string): Promise<DocumentResult[]> {
    await waitFor(
      async () => ((await (await fetch(`${this.base}/v1/jobs/${id}`)).json()) as { finishedAt: string | null }).finishedAt ?? undefined,
      1_800_000,
      `job ${id}`,
    );
    const body = (await (await fetch(`${this.base}/v1/jobs/${id}/results?limit=1000`)).json()) as { documents: DocumentResult[] };
    return body.documents;
  }
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

/** True and false positives and misses of one document's entities of `type` (values compared as multisets). */
function score(expected: Entity[], found: Entity[], type: string, into: Counts): string[] {
  const want = expected.filter((e) => e.type === type).map((e) => e.value);
  const misses: string[] = [];
  for (const value of found.filter((e) => e.type === type).map((e) => e.value)) {
    const at = want.indexOf(value);
    if (at >= 0) {
      want.splice(at, 1);
      into.tp++;
    } else {
      into.fp++;
      misses.push(`extra ${type} ${value}`);
    }
  }
  into.fn += want.length;
  return [...misses, ...want.map((v) => `missed ${type} ${v}`)];
}

const ratio = (a: number, b: number) => (b === 0 ? '   -' : (a / b).toFixed(3));

async function entitiesAndClasses(platform: Platform): Promise<void> {
  const stored = await fetch(`${platform.base}/v1/classifiers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'kinds',
      labels: Object.fromEntries(
        (['invoice', 'reminder', 'letter'] as const).map((kind) => [
          kind,
          businessDocuments(8, 100)
            .filter((d) => d.kind === kind)
            .map((d) => d.lines.join('\n')),
        ]),
      ),
    }),
  });
  if (!stored.ok) throw new Error(`classifier: ${stored.status} ${await stored.text()}`);

  const documents = businessDocuments(PER_KIND, 1);
  const byName = new Map<string, BusinessDocument>();
  const results: { doc: BusinessDocument; input: string; result: DocumentResult }[] = [];
  const started = Date.now();
  for (const language of ['eng', 'fra', 'deu'] as BusinessLanguage[]) {
    const files: { name: string; bytes: Buffer }[] = [];
    for (const doc of documents.filter((d) => d.language === language)) {
      byName.set(doc.name, doc);
      // as a scan: specks, a page not quite straight
      const rotate = files.length % 4 === 0 ? 1.5 : -1;
      files.push({ name: `${doc.name}.png`, bytes: await renderTextPng(doc.lines, { width: 2800, fontSize: 34, noise: 0.01, rotate }) });
      files.push({ name: `${doc.name}.pdf`, bytes: makePdf([{ kind: 'text', lines: doc.lines, fontSize: 9 }]) }); // 9 pt: the longest line fits the page
    }
    const id = await platform.submit(files, { options: JSON.stringify({ languages: [language], classify: { classifier: 'kinds' } }) });
    for (const result of await platform.results(id)) {
      const [name, input] = [result.name.replace(/\.(png|pdf)$/, ''), result.name.endsWith('.png') ? 'image' : 'text PDF'];
      results.push({ doc: byName.get(name)!, input, result });
    }
  }
  const seconds = (Date.now() - started) / 1000;

  const table = new Map<string, Counts>();
  const counts = (key: string) => table.get(key) ?? table.set(key, { tp: 0, fp: 0, fn: 0 }).get(key)!;
  const notes: string[] = [];
  let classified = 0;
  for (const { doc, input, result } of results) {
    if (!result.steps.nlp) {
      notes.push(`${result.name}: ${result.status} ${result.error?.code ?? ''}`);
      continue;
    }
    if (result.steps.nlp.classification?.label === doc.kind) classified++;
    for (const type of SCORED) {
      for (const key of [`${type} ${doc.language} ${input}`, `${type} ${doc.language}`, `${type} all`]) {
        const misses = score(doc.entities, result.steps.nlp.entities, type, counts(key));
        if (key.endsWith('all')) notes.push(...misses.map((m) => `${result.name}: ${m}`));
      }
    }
  }
  process.stdout.write(
    `\nentities: ${results.length} documents (${documents.length} generated, each as an image and a text PDF), ${seconds.toFixed(0)} s\n`,
  );
  process.stdout.write(
    `${'type'.padEnd(7)} ${'language'.padEnd(9)} ${'input'.padEnd(9)} ${'expected'.padStart(8)} ${'precision'.padStart(9)} ${'recall'.padStart(7)}\n`,
  );
  for (const type of SCORED) {
    for (const language of ['eng', 'fra', 'deu', 'all']) {
      for (const input of language === 'all' ? [''] : ['image', 'text PDF', '']) {
        const c = table.get(language === 'all' ? `${type} all` : `${type} ${language}${input ? ` ${input}` : ''}`);
        if (!c || c.tp + c.fn + c.fp === 0) continue;
        process.stdout.write(
          `${type.padEnd(7)} ${language.padEnd(9)} ${(input || 'both').padEnd(9)} ${String(c.tp + c.fn).padStart(8)} ${ratio(c.tp, c.tp + c.fp).padStart(9)} ${ratio(c.tp, c.tp + c.fn).padStart(7)}\n`,
        );
      }
    }
  }
  process.stdout.write(
    `\nclassification (classifier from ${3 * 3 * 8} other generated documents): ${classified}/${results.length} = ${ratio(classified, results.length)}\n`,
  );
  if (notes.length > 0) process.stdout.write(`\nwhat was missed or extra:\n${notes.map((n) => `  ${n}`).join('\n')}\n`);
}

async function languages(platform: Platform): Promise<void> {
  const rand = seededRandom(7);
  const samples: { language: string; text: string }[] = [];
  for (const doc of businessDocuments(4, 5)) samples.push({ language: doc.language, text: doc.lines.join('\n') });
  for (const language of SAMPLE_LANGUAGES) for (const text of languageSamples(language, 12, rand)) samples.push({ language, text });
  const files = samples.map((s, i) => ({ name: `${s.language}-${String(i).padStart(3, '0')}.txt`, bytes: Buffer.from(s.text) }));
  const results = await platform.results(await platform.submit(files, { pipeline: 'nlp' }));
  const perLanguage = new Map<string, { right: number; total: number; wrong: string[] }>();
  for (const result of results) {
    const want = result.name.slice(0, 3);
    const got = result.steps.nlp?.language ?? 'none';
    const entry = perLanguage.get(want) ?? perLanguage.set(want, { right: 0, total: 0, wrong: [] }).get(want)!;
    entry.total++;
    if (got === want) entry.right++;
    else entry.wrong.push(`${result.name} as ${got}`);
  }
  const shortest = Math.min(...samples.map((s) => s.text.length));
  process.stdout.write(`\nlanguage: ${results.length} texts of ${shortest}+ characters in ${perLanguage.size} languages\n`);
  let right = 0;
  for (const [language, entry] of perLanguage) {
    right += entry.right;
    process.stdout.write(`  ${language}  ${entry.right}/${entry.total}${entry.wrong.length ? `  (${entry.wrong.join(', ')})` : ''}\n`);
  }
  process.stdout.write(`  all  ${right}/${results.length} = ${ratio(right, results.length)}\n`);
}

async function main() {
  const platform = await launch([process.execPath, CLI, 'up'], { LOG_LEVEL: 'warn', DOCPROC_LOG_FORMAT: 'json' });
  try {
    await untilReady(platform);
    const api = new Platform(`http://127.0.0.1:${platform.apiPort}`);
    await languages(api);
    await entitiesAndClasses(api);
  } finally {
    platform.child.kill('SIGTERM');
    await platform.exited;
    await whenAllExited(platform);
  }
}

void main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
