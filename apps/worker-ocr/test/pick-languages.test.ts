import { spawnSync } from 'node:child_process';
import { toPgm } from '@docproc/media';
import { characterErrorRate, renderTextPng } from '@docproc/testkit';
import type { OcrEngine, RecognizeOptions } from '../src/engine';
import { NativeTesseractEngine } from '../src/native-engine';
import { readPage } from '../src/pick-languages';
import { TesseractEngine } from '../src/tesseract-engine';

const native = spawnSync('tesseract', ['--list-langs'], { encoding: 'utf8' });
const nativeLanguages =
  native.status === 0
    ? native.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
    : [];

/** The engine, with each page it is given counted (what a picked language costs). */
class Counted implements OcrEngine {
  readonly name: string;
  readonly reads: string[][] = [];
  constructor(private readonly engine: OcrEngine) {
    this.name = engine.name;
  }
  recognize(image: Buffer, options: RecognizeOptions) {
    this.reads.push(options.languages);
    return this.engine.recognize(image, options);
  }
  languages() {
    return this.engine.languages();
  }
  detectScript(image: Buffer, options: Pick<RecognizeOptions, 'timeoutMs'>) {
    return this.engine.detectScript?.(image, options) ?? Promise.resolve(null);
  }
  warm(languages: string[]) {
    return this.engine.warm(languages);
  }
  close() {
    return this.engine.close();
  }
}

const FRENCH = ['Le conseil municipal s’est réuni lundi matin pour examiner', 'le budget de l’année prochaine et les travaux du port.'];
const ENGLISH = ['The harbour board met on Monday morning to review', 'the budget for next year and the works at the port.'];
const options: RecognizeOptions = { languages: ['eng'], timeoutMs: 60_000 };

describe.each([
  ['tesseract.js', () => new TesseractEngine({ recyclePages: 100, maxMemoryMb: 2048 }), true],
  ['native Tesseract', () => new NativeTesseractEngine(), nativeLanguages.includes('fra')],
] as const)('languages picked from the page, %s', (_name, make, available) => {
  const engine = new Counted(make());
  afterAll(() => engine.close());
  const maybe = available ? it : it.skip;

  maybe('reads a French page with the French model when the job names none, as well as when it names it', async () => {
    const image = await toPgm(await renderTextPng(FRENCH, { fontSize: 40, width: 2000 }));
    const picked = await readPage(engine, image, options, true);
    expect(picked.languages).toEqual(['fra']);
    const given = await readPage(engine, image, { ...options, languages: ['fra'] }, false);
    const truth = FRENCH.join(' ');
    const cer = (text: string) => characterErrorRate(text.replace(/\s+/g, ' ').trim(), truth);
    expect(cer(picked.read.text)).toBeLessThanOrEqual(cer(given.read.text) + 0.005);
  });

  maybe('reads an English page once: its language is the default', async () => {
    const image = await toPgm(await renderTextPng(ENGLISH, { fontSize: 40, width: 2000 }));
    engine.reads.length = 0;
    const picked = await readPage(engine, image, options, true);
    expect(picked.languages).toEqual(['eng']);
    expect(engine.reads).toEqual([['eng']]);
  });
});

(nativeLanguages.includes('rus') ? it : it.skip)('reads a Cyrillic page with the Cyrillic model its script calls for', async () => {
  const engine = new NativeTesseractEngine();
  const lines = ['Городской совет собрался в понедельник утром,', 'чтобы обсудить бюджет на следующий год.'];
  const picked = await readPage(engine, await toPgm(await renderTextPng(lines, { fontSize: 40, width: 2000 })), options, true);
  expect(picked.languages).toEqual(['rus']);
  expect(characterErrorRate(picked.read.text.replace(/\s+/g, ' ').trim(), lines.join(' '))).toBeLessThan(0.05);
});
