import * as linkify from 'linkifyjs';
import { findPhoneNumbersInText } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js';
import { entityAt, type Finder } from './finder';

/** E-mail addresses (linkifyjs, which knows the top-level domains), lower-cased. */
export const findEmails: Finder = (page) =>
  linkify.find(page.text, 'email').map((link) => entityAt(page, 'email', link.start, link.end, link.value.toLowerCase(), 0.95));

/**
 * Web addresses (linkifyjs) written with a scheme or "www.": a bare "name.tld" is as often
 * a file name or two words an OCR error ran together.
 */
export const findUrls: Finder = (page) =>
  linkify
    .find(page.text, 'url')
    .filter((link) => /^(?:https?:\/\/|www\.)/i.test(link.value))
    .map((link) => entityAt(page, 'url', link.start, link.end, link.href, 0.95));

/** Region whose phone numbers a page in this language most likely has, after the configured one. */
const REGION_OF_LANGUAGE: Record<string, CountryCode> = {
  eng: 'GB',
  fra: 'FR',
  deu: 'DE',
  spa: 'ES',
  ita: 'IT',
  nld: 'NL',
  por: 'PT',
  pol: 'PL',
  swe: 'SE',
  dan: 'DK',
  nob: 'NO',
  fin: 'FI',
  ces: 'CZ',
};

/**
 * Phone numbers valid for their region (libphonenumber-js with full metadata), in E.164.
 * A run of digits with no "+", space, dash, dot, slash or bracket is an account or order
 * number far more often than a phone number, so one is only taken after a word such as "Tel".
 */
export const findPhones: Finder = (page) => {
  const regions = [page.phoneRegion as CountryCode, REGION_OF_LANGUAGE[page.language]].filter((r): r is CountryCode => r !== undefined);
  const found = new Map<number, ReturnType<typeof entityAt>>();
  for (const region of new Set(regions)) {
    for (const hit of findPhoneNumbersInText(page.text, { defaultCountry: region })) {
      if (found.has(hit.startsAt)) continue;
      const written = page.text.slice(hit.startsAt, hit.endsAt);
      // glued to letters, digits or a dash before or after: a piece of a reference (INV-2022-8396), not a number on its own
      if (/[\p{L}\d-]/u.test(page.text[hit.startsAt - 1] ?? '') || /[\p{L}\d]/u.test(page.text[hit.endsAt] ?? '')) continue;
      const formatted = /[+\s()./-]/.test(written.slice(1));
      if (
        !formatted &&
        !/(?:tel|phone|fax|mobile?|handy|tél|portable|telefon)\.?:?\s*$/i.test(page.text.slice(Math.max(0, hit.startsAt - 16), hit.startsAt))
      )
        continue;
      found.set(hit.startsAt, entityAt(page, 'phone', hit.startsAt, hit.endsAt, hit.number.number, written.startsWith('+') ? 0.95 : 0.85));
    }
  }
  return [...found.values()];
};
