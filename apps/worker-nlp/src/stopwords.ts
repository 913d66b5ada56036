/** natural's stopword lists, by the ISO 639-3 code franc gives. English where natural has none. */
const FILES: Record<string, string> = {
  eng: 'stopwords',
  spa: 'stopwords_es',
  fra: 'stopwords_fr',
  ita: 'stopwords_it',
  nld: 'stopwords_nl',
  nob: 'stopwords_no',
  pol: 'stopwords_pl',
  por: 'stopwords_pt',
  rus: 'stopwords_ru',
  swe: 'stopwords_sv',
  ukr: 'stopwords_uk',
  ind: 'stopwords_id',
  pes: 'stopwords_fa',
};

const loaded = new Map<string, Set<string>>();

export function stopwordsFor(language: string): Set<string> {
  const file = FILES[language] ?? FILES.eng!;
  let words = loaded.get(file);
  if (!words) {
    words = new Set<string>((require(`natural/lib/natural/util/${file}`) as { words: string[] }).words);
    loaded.set(file, words);
  }
  return words;
}
