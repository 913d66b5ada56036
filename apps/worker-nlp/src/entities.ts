import type { Entity } from '@docproc/catalog';

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const CURRENCY: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };

const pad = (n: number) => String(n).padStart(2, '0');

function isoDate(year: number, month: number, day: number): string | null {
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return null; // 31 February
  return `${year}-${pad(month)}-${pad(day)}`;
}

interface Rule {
  type: string;
  pattern: RegExp;
  /** The normalised value, or null when the match is not really one. */
  value: (match: RegExpExecArray) => string | null;
}

const RULES: Rule[] = [
  { type: 'email', pattern: /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, value: (m) => m[0].toLowerCase() },
  { type: 'url', pattern: /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)]/g, value: (m) => m[0] },
  {
    type: 'date',
    pattern: /\b(\d{4})-(\d{2})-(\d{2})\b/g,
    value: (m) => isoDate(Number(m[1]), Number(m[2]), Number(m[3])),
  },
  {
    type: 'date',
    pattern: /\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b/g,
    value: (m) => isoDate(Number(m[3]), Number(m[2]), Number(m[1])), // day first, as most of the world writes it
  },
  {
    type: 'date',
    pattern: new RegExp(`\\b(\\d{1,2}) (${MONTHS.join('|')}) (\\d{4})\\b`, 'gi'),
    value: (m) => isoDate(Number(m[3]), MONTHS.indexOf(m[2]!.toLowerCase()) + 1, Number(m[1])),
  },
  {
    type: 'date',
    pattern: new RegExp(`\\b(${MONTHS.join('|')}) (\\d{1,2}),? (\\d{4})\\b`, 'gi'),
    value: (m) => isoDate(Number(m[3]), MONTHS.indexOf(m[1]!.toLowerCase()) + 1, Number(m[2])),
  },
  {
    type: 'money',
    pattern: /([$€£¥])\s?(\d{1,3}(?:[,. ]\d{3})*(?:[.,]\d{2})?|\d+(?:[.,]\d{2})?)/g,
    value: (m) => `${CURRENCY[m[1]!]} ${m[2]!.replace(/[,. ](?=\d{3}\b)/g, '').replace(',', '.')}`,
  },
  { type: 'percent', pattern: /\b(\d+(?:[.,]\d+)?)\s?%/g, value: (m) => `${m[1]!.replace(',', '.')}%` },
  {
    type: 'phone',
    pattern: /(?<![\w+])\+?\d[\d ()-]{7,}\d\b/g,
    value: (m) => {
      const digits = m[0].replace(/[^\d+]/g, '');
      return digits.replace(/\D/g, '').length >= 9 ? digits : null;
    },
  },
];

/**
 * Entities that patterns find reliably: e-mail addresses, URLs, dates,
 * amounts of money, percentages and phone numbers, each with a normalised
 * value. (natural has no entity recogniser.)
 */
export function findEntities(text: string): Entity[] {
  const found: Entity[] = [];
  const taken: [number, number][] = [];
  for (const rule of RULES) {
    for (const match of text.matchAll(rule.pattern)) {
      const start = match.index;
      const end = start + match[0].length;
      if (taken.some(([s, e]) => start < e && end > s)) continue; // an earlier rule owns these characters
      const value = rule.value(match as RegExpExecArray);
      if (value === null) continue;
      taken.push([start, end]);
      found.push({ type: rule.type, text: match[0], value });
    }
  }
  return found;
}
