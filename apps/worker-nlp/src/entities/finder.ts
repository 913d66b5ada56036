import type { DateOrder, Entity } from '@docproc/catalog';

/** What every finder is given: one page's text and how to read it. */
export interface PageText {
  text: string;
  page: number;
  /** ISO 639-3 language of the page (or of the document, when the page is too short to tell). */
  language: string;
  dateOrder: DateOrder;
  /** Region of phone numbers written without a country code. */
  phoneRegion: string;
}

export type Finder = (page: PageText) => Entity[];

/** An entity at [start, end) of the page. */
export function entityAt(page: PageText, type: string, start: number, end: number, value: string, confidence: number): Entity {
  return { type, text: page.text.slice(start, end), value, page: page.page, start, end, confidence };
}
