import nlp from 'compromise';
import { entityAt, type Finder, type PageText } from './finder';

const TITLE = /^(?:(?:mr|mrs|ms|miss|dr|prof|sir|madam)\.?\s+)+/i;

/**
 * People, places and organisations in English text (compromise's rule-based tagger). It
 * knows English only; other languages get none rather than guesses.
 */
export const findNames: Finder = (page) => {
  if (page.language !== 'eng') return [];
  const doc = nlp(page.text);
  return [
    ...named(page, 'person', doc.people(), 0.7),
    ...named(page, 'place', doc.places(), 0.6),
    ...named(page, 'organization', doc.organizations(), 0.7),
  ];
};

function named(page: PageText, type: string, view: { out(format: 'offset'): unknown }, confidence: number) {
  return (view.out('offset') as { text: string; offset: { start: number; length: number } }[]).flatMap(({ text, offset }) => {
    const title = TITLE.exec(text)?.[0].length ?? 0;
    const name = text
      .slice(title)
      .replace(/[\s,.;:!?'"()]+$/, '')
      .replace(/['’]s$/, ''); // Watson's: the possessive is not part of the name
    if (!/\p{Lu}/u.test(name) || name.length < 2) return [];
    const start = offset.start + title;
    return [entityAt(page, type, start, start + name.length, name.replace(/\s+/g, ' '), confidence)];
  });
}
