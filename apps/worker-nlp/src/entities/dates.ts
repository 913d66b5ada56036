import * as chrono from 'chrono-node';
import type { DateOrder } from '@docproc/catalog';
import type { Entity } from '@docproc/catalog';
import { entityAt, type Finder, type PageText } from './finder';

/** chrono's strict parsers by language (ISO 639-3): formal dates only, no "tomorrow" or "in 3 days". */
const BY_LANGUAGE: Record<string, chrono.Chrono> = {
  fra: chrono.fr.strict,
  deu: chrono.de.strict,
  spa: chrono.es.strict,
  ita: chrono.it.strict,
  nld: chrono.nl.strict,
  por: chrono.pt.strict,
  swe: chrono.sv.strict,
  fin: chrono.fi.strict,
  rus: chrono.ru.strict,
  ukr: chrono.uk.strict,
  jpn: chrono.ja.strict,
  cmn: chrono.zh.strict,
};

/** English reads 03/04/2025 by the date order; the other languages always day first. */
const ENGLISH: Record<DateOrder, chrono.Chrono> = {
  DMY: new chrono.Chrono(chrono.en.configuration.createConfiguration(true, true)),
  MDY: new chrono.Chrono(chrono.en.configuration.createConfiguration(true, false)),
};

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Dates in the page's language and in numeric forms (chrono), as ISO 8601: `2025-04-03`,
 * or `--04-03` when the year is not written. Times and ranges' second halves are left out:
 * each written date is one entity.
 */
export const findDates: Finder = (page) => {
  const english = ENGLISH[page.dateOrder]!;
  const own = BY_LANGUAGE[page.language];
  // English month names turn up in every language's papers (and a short page's language can be
  // misjudged): English reads what the page's own language left.
  const found = own ? [...parse(own, page), ...parse(english, page)] : parse(english, page);
  return found.filter((date, i) => !found.slice(0, i).some((other) => date.start < other.end && date.end > other.start));
};

function parse(parser: chrono.Chrono, page: PageText): Entity[] {
  return parser.parse(page.text, new Date(Date.UTC(2000, 0, 1))).flatMap((found) => {
    const { start } = found;
    if (!start.isCertain('day') || !start.isCertain('month')) return [];
    const month = start.get('month')!;
    const day = start.get('day')!;
    const hasYear = start.isCertain('year');
    const value = hasYear ? `${start.get('year')}-${pad(month)}-${pad(day)}` : `--${pad(month)}-${pad(day)}`;
    const text = dateTextOf(found.text);
    return [entityAt(page, 'date', found.index, found.index + text.length, value, hasYear ? 0.95 : 0.6)];
  });
}

/** chrono takes "on", "le", "am" and a trailing time into its text; the entity is the date alone. */
function dateTextOf(text: string): string {
  return text.replace(/(?:,?\s*(?:at|à|um)?\s*\d{1,2}[:h]\d{2}.*)$/i, '').trimEnd();
}
