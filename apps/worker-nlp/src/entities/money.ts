import { entityAt, type Finder } from './finder';

/*
 * Amounts of money are found here rather than by a library: the one made for it
 * (@microsoft/recognizers-text-number-with-unit 1.3.1) read "1.234,56 €" in German as 1.794,
 * missed "EUR 2,500.00" and took 9.6 s to load French (measured; see docs/architecture.md).
 */

/** Symbols and the currency each stands for when no country is written with it. */
const SYMBOLS: Record<string, string> = {
  US$: 'USD',
  CA$: 'CAD',
  C$: 'CAD',
  A$: 'AUD',
  AU$: 'AUD',
  NZ$: 'NZD',
  HK$: 'HKD',
  S$: 'SGD',
  R$: 'BRL',
  $: 'USD',
  '€': 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  '₹': 'INR',
  '₽': 'RUB',
  '₩': 'KRW',
  '₺': 'TRY',
  '₪': 'ILS',
  '₴': 'UAH',
  zł: 'PLN',
  Fr: 'CHF',
  'Fr.': 'CHF',
};
/** ISO 4217 codes (Node's Intl knows them all). */
const CODES = new Set(Intl.supportedValuesOf('currency'));

const symbol = Object.keys(SYMBOLS)
  .sort((a, b) => b.length - a.length)
  .map((s) => s.replace(/[$.]/g, '\\$&'))
  .join('|');
// Digits grouped by , . ' or a (narrow) space, then decimals; or plain digits with decimals.
const number = String.raw`-?\d{1,3}(?:[,.'\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?(?![\d])|-?\d+(?:[.,]\d{1,2})?(?![\d])|-?\d+[.,]-`;
const currency = String.raw`(?:${symbol}|\b[A-Z]{3}\b)`;
const BEFORE = new RegExp(String.raw`(${currency})\s?(${number})`, 'gu');
const AFTER = new RegExp(String.raw`(?<![\d.,])(${number})\s?(${currency})`, 'gu');

/** "EUR 1234.50": an ISO code and the amount with as many decimals as the currency has. */
function valueOf(code: string, written: string): string | null {
  const amount = amountOf(written);
  if (amount === null) return null;
  const { maximumFractionDigits } = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions();
  return `${code} ${amount.toFixed(maximumFractionDigits ?? 2)}`;
}

/** The number a written amount stands for: the last , or . followed by one or two digits is the decimal mark. */
function amountOf(written: string): number | null {
  const text = written.replace(/[.,]-$/, ''); // "25,-": no cents
  const decimal = /[.,](\d{1,2})$/.exec(text);
  const whole = (decimal ? text.slice(0, decimal.index) : text).replace(/[,.'\u00a0\u202f ]/g, '');
  const amount = Number(`${whole}.${decimal?.[1] ?? '0'}`);
  return Number.isFinite(amount) ? amount : null;
}

function codeOf(written: string): string | null {
  if (SYMBOLS[written]) return SYMBOLS[written];
  return CODES.has(written) ? written : null;
}

/** Amounts with a currency symbol or ISO code before or after them: `$1,234.56`, `1.234,56 €`, `EUR 99.90`, `25,- €`. */
export const findMoney: Finder = (page) => {
  const found = [];
  for (const [pattern, codeGroup, numberGroup] of [
    [BEFORE, 1, 2],
    [AFTER, 2, 1],
  ] as const) {
    for (const match of page.text.matchAll(pattern)) {
      const code = codeOf(match[codeGroup]!);
      const value = code && valueOf(code, match[numberGroup]!);
      if (!value) continue;
      // A symbol says "money" for sure; three capitals might be something else that looks like a code.
      const confidence = SYMBOLS[match[codeGroup]!] ? 0.95 : 0.9;
      found.push(entityAt(page, 'money', match.index, match.index + match[0].length, value, confidence));
    }
  }
  return found;
};

/** Percentages: `21%`, `5,5 %`. */
export const findPercentages: Finder = (page) =>
  [...page.text.matchAll(/(?<![\d.,])(\d+(?:[.,]\d+)?)\s?%/g)].map((m) =>
    entityAt(page, 'percent', m.index, m.index + m[0].length, `${m[1]!.replace(',', '.')}%`, 0.95),
  );
