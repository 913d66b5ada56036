import * as stopword from 'stopword';

const lists = stopword as unknown as Record<string, unknown>;

/** The stopword package's code where it differs from the one docproc gives (eld's, as ISO 639-3). */
const ALIASES: Record<string, string> = { pes: 'fas', cmn: 'zho' };

const loaded = new Map<string, Set<string>>();

/**
 * Words too common to say what a text is about, in the language (the stopword package:
 * 60 languages, German among them, which natural's lists lack); English where it has none.
 */
export function stopwordsFor(language: string): Set<string> {
  const code = ALIASES[language] ?? language;
  let words = loaded.get(code);
  if (!words) {
    const list = lists[code];
    words = new Set<string>(Array.isArray(list) ? (list as string[]) : stopword.eng);
    loaded.set(code, words);
  }
  return words;
}
