import { seededRandom } from './random';

/**
 * Invoice-, reminder- and letter-like pages in English, French and German whose entities
 * are known: dates in several written forms, amounts in several currencies and formats,
 * IBANs (checksums computed), BICs, e-mail addresses and phone numbers (national and
 * international). What NLP should find on a page is listed with the page, normalised as
 * NLP gives it. Seeded: the same documents on every run.
 */

export type BusinessLanguage = 'eng' | 'fra' | 'deu';
export type BusinessKind = 'invoice' | 'reminder' | 'letter';

export interface ExpectedEntity {
  type: 'date' | 'money' | 'email' | 'iban' | 'bic' | 'phone';
  value: string;
}

export interface BusinessDocument {
  name: string;
  language: BusinessLanguage;
  kind: BusinessKind;
  lines: string[];
  entities: ExpectedEntity[];
}

type Pick = <T>(items: readonly T[]) => T;

interface Locale {
  people: readonly string[];
  companies: readonly string[];
  cities: readonly string[];
  streets: readonly string[];
  products: readonly string[];
  months: readonly string[];
  tld: string;
  /** Date forms: each writes day, month (1-12), year. */
  dates: readonly ((d: number, m: number, y: number, months: readonly string[]) => string)[];
  /** Amount forms: each writes an amount, with the ISO code it stands for. */
  amounts: readonly { code: string; write: (amount: number) => string }[];
  ibanCountry: 'GB' | 'FR' | 'DE';
  templates: Record<BusinessKind, (f: Fields) => string[]>;
}

interface Fields {
  person: string;
  company: string;
  otherCompany: string;
  city: string;
  street: string;
  product: string;
  number: string;
  date: [string, string, string];
  money: [string, string];
  iban: string;
  bic: string | null;
  email: string;
  phone: string;
  quantity: number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** 1234.5 written with a thousands mark and a decimal mark. */
function grouped(amount: number, thousands: string, decimal: string): string {
  const [whole, cents] = amount.toFixed(2).split('.') as [string, string];
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, thousands)}${decimal}${cents}`;
}

const ENGLISH_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const LOCALES: Record<BusinessLanguage, Locale> = {
  eng: {
    people: ['John Carter', 'Mary Jones', 'Peter Walsh', 'Susan Clarke', 'David Hughes', 'Emma Wright', 'James Porter', 'Laura Bennett'],
    companies: ['Northwind Traders', 'Blue Harbour Supplies', 'Greenfield Paper Mills', 'Atlas Office Furniture', 'Redwood Consulting Group'],
    cities: ['London', 'Manchester', 'Bristol', 'Leeds', 'Oxford'],
    streets: ['High Street', 'Station Road', 'Church Lane', 'Mill Road', 'Park Avenue'],
    products: ['office chairs', 'printer paper', 'desk lamps', 'filing cabinets', 'consulting hours'],
    months: ENGLISH_MONTHS,
    tld: 'co.uk',
    dates: [
      (d, m, y, months) => `${d} ${months[m - 1]} ${y}`,
      (d, m, y, months) => `${months[m - 1]} ${d}, ${y}`,
      (d, m, y) => `${pad(d)}/${pad(m)}/${y}`,
      (d, m, y) => `${y}-${pad(m)}-${pad(d)}`,
    ],
    amounts: [
      { code: 'GBP', write: (a) => `£${grouped(a, ',', '.')}` },
      { code: 'USD', write: (a) => `$${grouped(a, ',', '.')}` },
      { code: 'EUR', write: (a) => `EUR ${grouped(a, ',', '.')}` },
      { code: 'USD', write: (a) => `${grouped(a, ',', '.')} USD` },
    ],
    ibanCountry: 'GB',
    templates: {
      invoice: (f) => [
        f.company,
        `${f.street}, ${f.city}`,
        `Invoice ${f.number}`,
        `Invoice date: ${f.date[0]}`,
        `Due date: ${f.date[1]}`,
        `Bill to: ${f.person}, ${f.otherCompany}`,
        `${f.quantity} x ${f.product} at ${f.money[0]} each`,
        `Total due: ${f.money[1]}`,
        `Please pay to IBAN ${f.iban}${f.bic ? `, BIC ${f.bic}` : ''}`,
        `Questions: ${f.email} or call ${f.phone}`,
      ],
      reminder: (f) => [
        f.company,
        `${f.city}, ${f.date[0]}`,
        `Payment reminder for invoice ${f.number}`,
        `Dear ${f.person},`,
        `Our invoice of ${f.date[1]} for ${f.money[1]} is still unpaid.`,
        `Please transfer the amount by ${f.date[2]} to IBAN ${f.iban}.`,
        `If you have paid already, please ignore this reminder.`,
        `Accounts team, ${f.email}, phone ${f.phone}`,
      ],
      letter: (f) => [
        `${f.city}, ${f.date[0]}`,
        `Dear ${f.person},`,
        `Thank you for your kind letter of ${f.date[1]} and for the visit.`,
        `We were glad to hear that the ${f.product} arrived safely.`,
        `Our next meeting could take place after ${f.date[2]} at our office.`,
        `You can reach me on ${f.phone} or write to ${f.email}.`,
        `With best wishes from all of us,`,
        `Yours sincerely, ${f.otherCompany}`,
      ],
    },
  },
  fra: {
    people: ['Jean Dupont', 'Marie Lefèvre', 'Pierre Moreau', 'Sophie Laurent', 'Luc Girard', 'Claire Fontaine', 'Henri Mercier', 'Élise Rousseau'],
    companies: ['Papeterie Durand', 'Mobilier Lumière', 'Conseil Atlantique', 'Imprimerie du Centre', 'Fournitures Boréal'],
    cities: ['Paris', 'Lyon', 'Nantes', 'Bordeaux', 'Lille'],
    streets: ['rue de la Paix', 'avenue Victor Hugo', 'boulevard Voltaire', 'rue des Lilas', 'place de la Gare'],
    products: ['chaises de bureau', 'ramettes de papier', 'lampes de bureau', 'armoires de classement', 'heures de conseil'],
    months: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
    tld: 'fr',
    dates: [
      (d, m, y, months) => `${d === 1 ? '1er' : d} ${months[m - 1]} ${y}`,
      (d, m, y) => `${pad(d)}/${pad(m)}/${y}`,
      (d, m, y) => `${pad(d)}.${pad(m)}.${y}`,
    ],
    amounts: [
      { code: 'EUR', write: (a) => `${grouped(a, ' ', ',')} €` },
      { code: 'EUR', write: (a) => `${grouped(a, '.', ',')} EUR` },
      { code: 'CHF', write: (a) => `CHF ${grouped(a, "'", '.')}` },
    ],
    ibanCountry: 'FR',
    templates: {
      invoice: (f) => [
        f.company,
        `${f.street}, ${f.city}`,
        `Facture ${f.number}`,
        `Date de facture : ${f.date[0]}`,
        `Échéance : ${f.date[1]}`,
        `Client : ${f.person}, ${f.otherCompany}`,
        `${f.quantity} x ${f.product} à ${f.money[0]} l'unité`,
        `Montant total TTC : ${f.money[1]}`,
        `Règlement par virement, IBAN ${f.iban}${f.bic ? `, BIC ${f.bic}` : ''}`,
        `Contact : ${f.email} ou tél. ${f.phone}`,
      ],
      reminder: (f) => [
        f.company,
        `${f.city}, le ${f.date[0]}`,
        `Relance pour la facture ${f.number}`,
        `Madame, Monsieur,`,
        `Notre facture du ${f.date[1]} d'un montant de ${f.money[1]} reste impayée.`,
        `Merci de régler ce montant avant le ${f.date[2]} sur le compte IBAN ${f.iban}.`,
        `Si le paiement a déjà été effectué, veuillez ignorer ce courrier.`,
        `Service comptable, ${f.email}, tél. ${f.phone}`,
      ],
      letter: (f) => [
        `${f.city}, le ${f.date[0]}`,
        `Bonjour ${f.person},`,
        `Je vous remercie pour votre lettre du ${f.date[1]} et pour votre visite.`,
        `Nous sommes heureux d'apprendre que les ${f.product} sont bien arrivées.`,
        `Notre prochaine rencontre pourrait avoir lieu après le ${f.date[2]} dans nos bureaux.`,
        `Vous pouvez me joindre au ${f.phone} ou m'écrire à ${f.email}.`,
        `Je vous prie d'agréer mes salutations distinguées,`,
        `${f.otherCompany}`,
      ],
    },
  },
  deu: {
    people: ['Hans Müller', 'Anna Schmidt', 'Peter Becker', 'Julia Wagner', 'Thomas Fischer', 'Katrin Weber', 'Jürgen Hoffmann', 'Lena Schäfer'],
    companies: ['Papierhandel Krüger', 'Büromöbel Sonnenschein', 'Beratung Nordlicht', 'Druckerei am Markt', 'Lagertechnik Berger'],
    cities: ['Berlin', 'Hamburg', 'München', 'Köln', 'Leipzig'],
    streets: ['Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Lindenallee', 'Marktplatz'],
    products: ['Bürostühle', 'Kopierpapier', 'Schreibtischlampen', 'Aktenschränke', 'Beratungsstunden'],
    months: ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
    tld: 'de',
    dates: [(d, m, y, months) => `${d}. ${months[m - 1]} ${y}`, (d, m, y) => `${pad(d)}.${pad(m)}.${y}`, (d, m, y) => `${y}-${pad(m)}-${pad(d)}`],
    amounts: [
      { code: 'EUR', write: (a) => `${grouped(a, '.', ',')} €` },
      { code: 'EUR', write: (a) => `EUR ${grouped(a, '.', ',')}` },
      { code: 'CHF', write: (a) => `CHF ${grouped(a, "'", '.')}` },
    ],
    ibanCountry: 'DE',
    templates: {
      invoice: (f) => [
        f.company,
        `${f.street}, ${f.city}`,
        `Rechnung ${f.number}`,
        `Rechnungsdatum: ${f.date[0]}`,
        `Fällig am: ${f.date[1]}`,
        `Kunde: ${f.person}, ${f.otherCompany}`,
        `${f.quantity} x ${f.product} zu je ${f.money[0]}`,
        `Gesamtbetrag: ${f.money[1]}`,
        `Bitte überweisen Sie auf IBAN ${f.iban}${f.bic ? `, BIC ${f.bic}` : ''}`,
        `Fragen: ${f.email} oder Tel. ${f.phone}`,
      ],
      reminder: (f) => [
        f.company,
        `${f.city}, ${f.date[0]}`,
        `Zahlungserinnerung zur Rechnung ${f.number}`,
        `Sehr geehrte Damen und Herren,`,
        `unsere Rechnung vom ${f.date[1]} über ${f.money[1]} ist noch offen.`,
        `Bitte überweisen Sie den Betrag bis zum ${f.date[2]} auf IBAN ${f.iban}.`,
        `Sollten Sie bereits gezahlt haben, betrachten Sie dieses Schreiben als gegenstandslos.`,
        `Buchhaltung, ${f.email}, Telefon ${f.phone}`,
      ],
      letter: (f) => [
        `${f.city}, den ${f.date[0]}`,
        `Guten Tag ${f.person},`,
        `vielen Dank für Ihren freundlichen Brief vom ${f.date[1]} und Ihren Besuch.`,
        `Wir freuen uns, dass die ${f.product} gut angekommen sind.`,
        `Unser nächstes Treffen könnte nach dem ${f.date[2]} in unserem Büro stattfinden.`,
        `Sie erreichen mich unter ${f.phone} oder per E-Mail an ${f.email}.`,
        `Mit freundlichen Grüßen,`,
        `${f.otherCompany}`,
      ],
    },
  },
};

/** National numbers (without the trunk 0) from ranges that are valid, and how each country writes them. */
const PHONES: Record<
  BusinessLanguage,
  { country: string; national: (r: () => number) => string; forms: ((n: string, country: string) => string)[] }
> = {
  eng: {
    country: '44',
    national: (r) => `20${7000 + Math.floor(r() * 2000)}${pad(Math.floor(r() * 10000), 4)}`, // London 020 7xxx xxxx
    forms: [(n) => `0${n.slice(0, 2)} ${n.slice(2, 6)} ${n.slice(6)}`, (n, c) => `+${c} ${n.slice(0, 2)} ${n.slice(2, 6)} ${n.slice(6)}`],
  },
  fra: {
    country: '33',
    national: (r) => `1${pad(Math.floor(r() * 1e8), 8)}`, // Île-de-France 01 xx xx xx xx
    forms: [
      (n) => `0${n.slice(0, 1)} ${n.slice(1).replace(/(\d\d)(?=\d)/g, '$1 ')}`,
      (n, c) => `+${c} ${n.slice(0, 1)} ${n.slice(1).replace(/(\d\d)(?=\d)/g, '$1 ')}`,
    ],
  },
  deu: {
    country: '49',
    national: (r) => `30${2000000 + Math.floor(r() * 7000000)}`, // Berlin 030 + 7 digits
    forms: [(n) => `0${n.slice(0, 2)} ${n.slice(2)}`, (n, c) => `+${c} ${n.slice(0, 2)} ${n.slice(2)}`, (n) => `0${n.slice(0, 2)}/${n.slice(2)}`],
  },
};

const BICS: Record<BusinessLanguage, readonly string[]> = {
  eng: ['NWBKGB2L', 'BARCGB22', 'LOYDGB2L'],
  fra: ['BNPAFRPP', 'SOGEFRPP', 'CRLYFRPP'],
  deu: ['COBADEFFXXX', 'DEUTDEFF', 'MARKDEF1100'],
};

function digits(r: () => number, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += String(Math.floor(r() * 10));
  return s;
}

/** ISO 7064 mod 97 of a string of digits. */
function mod97(numeric: string): number {
  let rest = 0;
  for (const c of numeric) rest = (rest * 10 + Number(c)) % 97;
  return rest;
}
const lettersAsDigits = (s: string) => s.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));

/** A valid IBAN (compact) of the country: a random account with its national key (France) and check digits. */
function ibanOf(country: 'GB' | 'FR' | 'DE', r: () => number): string {
  let bban: string;
  if (country === 'GB') bban = `NWBK${digits(r, 14)}`;
  else if (country === 'DE') bban = digits(r, 18);
  else {
    const [bank, branch, account] = [digits(r, 5), digits(r, 5), digits(r, 11)];
    const key = 97 - ((89 * Number(bank) + 15 * Number(branch) + 3 * Number(account)) % 97);
    bban = `${bank}${branch}${account}${pad(key)}`;
  }
  return `${country}${pad(98 - mod97(lettersAsDigits(`${bban}${country}00`)))}${bban}`;
}

/** Generated business documents, `count` of each kind in each language, in a fixed order. */
export function businessDocuments(count: number, seed = 1, languages: readonly BusinessLanguage[] = ['eng', 'fra', 'deu']): BusinessDocument[] {
  const r = seededRandom(seed);
  const pick: Pick = (items) => items[Math.floor(r() * items.length)]!;
  const documents: BusinessDocument[] = [];
  for (const language of languages) {
    const locale = LOCALES[language];
    const phones = PHONES[language];
    for (const kind of ['invoice', 'reminder', 'letter'] as const) {
      for (let i = 0; i < count; i++) {
        const entities: ExpectedEntity[] = [];
        const date = (): string => {
          const [y, m, d] = [2020 + Math.floor(r() * 7), 1 + Math.floor(r() * 12), 1 + Math.floor(r() * 28)];
          entities.push({ type: 'date', value: `${y}-${pad(m)}-${pad(d)}` });
          return pick(locale.dates)(d, m, y, locale.months);
        };
        const money = (): string => {
          const amount = Math.round((5 + r() * 20000) * 100) / 100;
          const form = pick(locale.amounts);
          entities.push({ type: 'money', value: `${form.code} ${amount.toFixed(2)}` });
          return form.write(amount);
        };
        const person = pick(locale.people);
        const company = pick(locale.companies);
        const domain = company
          .toLowerCase()
          .normalize('NFD')
          .replace(/[^a-z ]/g, '')
          .trim()
          .replace(/ +/g, '-');
        const email = `${person
          .split(' ')[0]!
          .toLowerCase()
          .normalize('NFD')
          .replace(/[^a-z]/g, '')}@${domain}.${locale.tld}`;
        const national = phones.national(r);
        const iban = ibanOf(locale.ibanCountry, r);
        const bic = kind === 'invoice' && r() < 0.5 ? pick(BICS[language]) : null;
        // the fields in the order the templates write them, so expected dates and amounts are recorded in that order too
        const fields: Fields = {
          person,
          company,
          otherCompany: pick(locale.companies.filter((c) => c !== company)),
          city: pick(locale.cities),
          street:
            language === 'deu' ? `${pick(locale.streets)} ${1 + Math.floor(r() * 120)}` : `${1 + Math.floor(r() * 120)} ${pick(locale.streets)}`,
          product: pick(locale.products),
          number: `${kind === 'letter' ? 'REF' : 'INV'}-${2020 + Math.floor(r() * 7)}-${digits(r, 4)}`,
          quantity: 2 + Math.floor(r() * 40),
          date: ['', '', ''],
          money: ['', ''],
          iban: r() < 0.7 ? iban.replace(/(.{4})(?=.)/g, '$1 ') : iban,
          bic,
          email,
          phone: pick(phones.forms)(national, phones.country),
        };
        fields.date = [date(), date(), kind === 'invoice' ? '' : date()];
        fields.money = [kind === 'invoice' ? money() : '', kind === 'letter' ? '' : money()];
        const lines = locale.templates[kind](fields);
        if (kind !== 'letter') entities.push({ type: 'iban', value: iban });
        if (bic) entities.push({ type: 'bic', value: bic });
        entities.push({ type: 'email', value: email }, { type: 'phone', value: `+${phones.country}${national}` });
        documents.push({ name: `${language}-${kind}-${pad(i + 1, 3)}`, language, kind, lines, entities });
      }
    }
  }
  return documents;
}
