import type { Entity } from '@docproc/catalog';
import { findBics, findIbans, findVatIds } from './banking';
import { findEmails, findPhones, findUrls } from './contacts';
import { findDates } from './dates';
import type { Finder, PageText } from './finder';
import { findMoney, findPercentages } from './money';
import { findNames } from './names';

export type { PageText } from './finder';

/**
 * Finders in order of precedence: where two claim the same characters, the earlier wins
 * (an IBAN's digits are not a phone number, an e-mail's domain is not a URL, a date is not
 * an amount).
 */
const FINDERS: Finder[] = [findEmails, findUrls, findIbans, findVatIds, findBics, findDates, findMoney, findPhones, findPercentages, findNames];

/** Every entity on the page, none overlapping another, in the order they stand. */
export function findEntities(page: PageText): Entity[] {
  const kept: Entity[] = [];
  for (const finder of FINDERS) {
    for (const entity of finder(page)) {
      if (kept.some((k) => entity.start < k.end && entity.end > k.start)) continue;
      kept.push(entity);
    }
  }
  return kept.sort((a, b) => a.start - b.start);
}
