import { isValidBIC, isValidIBAN } from 'ibantools';
import { checkVAT, countries } from 'jsvat';
import { entityAt, type Finder } from './finder';

/**
 * IBANs whose checksum holds (ibantools), in electronic form. Printed IBANs come in groups
 * of four; the longest run of groups from a country code that is a valid IBAN is taken, so
 * a word after it ("BIC") is not swallowed.
 */
export const findIbans: Finder = (page) =>
  longestValid(page, /\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,30}/g, (s) => isValidIBAN(s)).map(([start, end, compact]) =>
    entityAt(page, 'iban', start, end, compact, 0.99),
  );

/** VAT identification numbers whose country's checksum holds (jsvat); where a country has no checksum jsvat checks the form. */
export const findVatIds: Finder = (page) =>
  longestValid(
    page,
    /\b(?:ATU|BE|BG|CHE|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|NO|PL|PT|RO|RS|RU|SE|SI|SK)[ .-]?[0-9A-Z](?:[ .-]?[0-9A-Z]){7,14}/g,
    (s) => checkVAT(s, countries).isValid,
  ).map(([start, end, compact]) => entityAt(page, 'vat', start, end, compact, 0.95));

/**
 * BIC (SWIFT) codes that are well formed (ibantools) and labelled as such: the code has no
 * checksum, and many eight-letter words in capitals are well formed.
 */
export const findBics: Finder = (page) =>
  [...page.text.matchAll(/\b(?:BIC|SWIFT)(?:\s*(?:code|\/\s*SWIFT|-Code))?\s*:?\s*([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b/gi)]
    .filter((m) => isValidBIC(m[1]!))
    .map((m) => {
      const start = m.index + m[0].length - m[1]!.length;
      return entityAt(page, 'bic', start, start + m[1]!.length, m[1]!.toUpperCase(), 0.95);
    });

/** For each match, the longest prefix that ends on a character and passes `valid` once separators are dropped. */
function longestValid(page: { text: string }, pattern: RegExp, valid: (compact: string) => boolean): [number, number, string][] {
  const found: [number, number, string][] = [];
  for (const match of page.text.matchAll(pattern)) {
    for (let end = match[0].length; end > 0; end--) {
      if (!/[A-Z0-9]/.test(match[0][end - 1]!)) continue;
      const compact = match[0].slice(0, end).replace(/[\s.-]/g, '');
      if (compact.length >= 8 && valid(compact)) {
        found.push([match.index, match.index + end, compact]);
        break;
      }
    }
  }
  return found;
}
