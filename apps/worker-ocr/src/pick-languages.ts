import { detectLanguage, languageDetectorLoaded } from '@docproc/language';
import { languagesOfScript } from '@docproc/media';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from './engine';

export interface PickedReading {
  read: RecognizedPage;
  languages: string[];
}

/** A first reading surer than this is in the right script: no script detection for it. */
const SURE_ENOUGH = 60;

/**
 * A page read with the models its text calls for: first with `options.languages` (the
 * platform's default); a reading that is not sure is checked against the page's script
 * (Tesseract's script detection) and read again with the installed models of that script;
 * then, when eld finds the text in another language this engine has installed, it is read
 * again with that model. The surest reading is kept. A page the default model reads well as
 * its own language costs nothing more than the language detection.
 */
async function readWithPickedLanguages(engine: OcrEngine, image: Buffer, options: RecognizeOptions): Promise<PickedReading> {
  const installed = await installedLanguages(engine);
  let best: PickedReading = { read: await engine.recognize(image, options), languages: options.languages };
  if (best.read.confidence < SURE_ENOUGH && engine.detectScript) {
    const script = await engine.detectScript(image, options);
    const models = script ? languagesOfScript(script, installed) : [];
    // another script than the default models': its models (a Latin page is left to eld)
    if (models.length > 0 && !models.some((m) => options.languages.includes(m))) {
      const read = await engine.recognize(image, { ...options, languages: models });
      if (read.confidence > best.read.confidence) best = { read, languages: models };
    }
  }
  const first = best.read;
  await languageDetectorLoaded;
  const language = detectLanguage(first.text);
  if (language === 'und' || (best.languages.length === 1 && best.languages[0] === language) || !installed.includes(language)) return best;
  options.signal?.throwIfAborted();
  const again = await engine.recognize(image, { ...options, languages: [language] });
  return again.confidence >= first.confidence ? { read: again, languages: [language] } : best;
}

const installedOf = new WeakMap<OcrEngine, Promise<string[]>>();
/** The engine's installed languages, asked once. */
function installedLanguages(engine: OcrEngine): Promise<string[]> {
  if (!installedOf.has(engine)) installedOf.set(engine, engine.languages());
  return installedOf.get(engine)!;
}

/** A page read with the job's languages, or with those picked for it when the job names none (and picking is on). */
export async function readPage(engine: OcrEngine, image: Buffer, options: RecognizeOptions, pick: boolean): Promise<PickedReading> {
  if (pick) return readWithPickedLanguages(engine, image, options);
  return { read: await engine.recognize(image, options), languages: options.languages };
}
