import { UnsupportedTypeError, type DateOrder } from '@docproc/catalog';
import { stepContext } from '@docproc/testkit';
import { classifyText, restoreClassifier, serializeClassifier, trainClassifier } from '../src/classify';
import { findEntities } from '../src/entities';
import { detectLanguage, languageDetectorLoaded } from '@docproc/language';
import { keywords, nlp, type NlpSettings } from '../src/nlp';
import { summarize } from '../src/summary';
import { sentencesOf } from '../src/text';

beforeAll(() => languageDetectorLoaded);

const SETTINGS: NlpSettings = { dateOrder: 'DMY', phoneRegion: 'US', summarySentences: 3 };
const ocrOf = (...pages: string[]) => ({
  text: pages.join('\f'),
  confidence: 90,
  engine: 'test',
  languages: ['eng'],
  pages: pages.map((text, index) => ({ index, text, confidence: 90, words: [], source: 'ocr' as const })),
});

const entitiesOf = (text: string, language: string, dateOrder: DateOrder = 'DMY', phoneRegion = 'US') =>
  findEntities({ text, page: 0, language, dateOrder, phoneRegion });
const values = (text: string, language: string, type: string, dateOrder: DateOrder = 'DMY', phoneRegion = 'US') =>
  entitiesOf(text, language, dateOrder, phoneRegion)
    .filter((e) => e.type === type)
    .map((e) => e.value);

describe('nlp', () => {
  it('counts words and sentences, finds the language, the keywords and a summary of OCR text', async () => {
    const text =
      'The invoice lists the invoice number, the invoice date and the amount. Payment of the invoice is due in thirty days. ' +
      'Please pay the amount to the account given below. The weather was pleasant that day.';
    const ctx = await stepContext('nlp', Buffer.from('x'), { pipeline: ['ocr', 'nlp'], previous: { ocr: ocrOf(text) } });
    const result = await nlp(ctx, { ...SETTINGS, summarySentences: 2 });
    expect(result.language).toBe('eng');
    expect(result.wordCount).toBe(36);
    expect(result.sentenceCount).toBe(4);
    expect(result.keywords[0]!.term).toBe('invoice');
    expect(result.keywords.map((k) => k.term)).not.toContain('the');
    expect(result.stems).toHaveLength(result.tokens.length);
    expect(result.stems).toContain('invoic'); // Porter
    expect(result.summary).toHaveLength(2);
    expect(result.summary).not.toContain('The weather was pleasant that day.'); // shares no term with the rest
    expect(result.classification).toBeNull();
  });

  it('gives each page its language and each entity its page and place in that page', async () => {
    const english = 'This letter confirms the delivery of your order. Payment is due on 30 April 2025, thank you.';
    const french = 'Cette lettre confirme la livraison de votre commande. Le paiement est dû le 15 mai 2025, merci beaucoup.';
    const ctx = await stepContext('nlp', Buffer.from('x'), { pipeline: ['ocr', 'nlp'], previous: { ocr: ocrOf(english, french) } });
    const result = await nlp(ctx, SETTINGS);
    expect(result.pages.map((p) => p.language)).toEqual(['eng', 'fra']);
    const dates = result.entities.filter((e) => e.type === 'date');
    expect(dates.map((d) => [d.value, d.page])).toEqual([
      ['2025-04-30', 0],
      ['2025-05-15', 1],
    ]);
    const pages = [english, french];
    for (const d of dates) expect(pages[d.page]!.slice(d.start, d.end)).toBe(d.text);
  });

  it('reads a plain-text document when there is no OCR step', async () => {
    const result = await nlp(
      await stepContext('nlp', Buffer.from('Ceci est un texte français assez long pour que la langue soit reconnue sans doute.')),
      SETTINGS,
    );
    expect(result.language).toBe('fra');
    expect(result.tokens).toContain('français');
    expect(result.stems).toContain('franc'); // natural's French Porter stemmer
  });

  it('refuses an image with no OCR before it', async () => {
    await expect(nlp(await stepContext('nlp', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), SETTINGS)).rejects.toThrow(
      UnsupportedTypeError,
    );
  });

  it('says "und" for text too short to tell', () => {
    expect(detectLanguage('ok')).toBe('und');
  });

  it('leaves out the stopwords of the language, German too', () => {
    const german = keywords(['Die Rechnung und der Vertrag sind mit der Post und mit dem Boten gekommen, die Rechnung ist offen.'], 3, 'deu');
    expect(german.map((k) => k.term)).toEqual(['rechnung', 'boten', 'gekommen']);
  });

  it('weighs a term on few pages over one as frequent but on every page', () => {
    const result = keywords(['focused focused focused', 'spread north', 'spread south', 'spread east'], 2, 'eng');
    expect(result.map((k) => k.term)).toEqual(['focused', 'spread']);
    expect(result[0]!.score).toBeGreaterThan(result[1]!.score);
  });

  it('classifies by labels with examples given in the job', async () => {
    const ctx = await stepContext('nlp', Buffer.from('x'), {
      pipeline: ['ocr', 'nlp'],
      previous: { ocr: ocrOf('Invoice number 17. Amount due: 120 EUR. Please pay the invoice within 30 days.') },
      jobOptions: {
        classify: {
          labels: {
            invoice: ['Invoice 12, amount due 300 USD, pay within 14 days', 'Invoice total due, payment terms, amount'],
            letter: ['Dear Sir, I write to thank you for your kind letter', 'Dear Madam, thank you for the lovely visit, yours sincerely'],
          },
        },
      },
    });
    const { classification } = await nlp(ctx, SETTINGS);
    expect(classification).toMatchObject({ label: 'invoice', classifier: 'job', runnerUp: { label: 'letter' } });
    expect(classification!.confidence).toBeGreaterThan(classification!.runnerUp!.confidence);
  });
});

describe('entities', () => {
  it('finds and normalises e-mails, URLs, dates, money, percentages and phone numbers', () => {
    const text =
      'Write to Billing@Example.com or see https://example.com/pay. Invoice date 12/03/2024, due 2024-04-11 or March 5, 2024. ' +
      'Total € 1.234,50 and $99.99, VAT 21%. Call +31 20 123 4567.';
    const of = (type: string) => values(text, 'eng', type);
    expect(of('email')).toEqual(['billing@example.com']);
    expect(of('url')).toEqual(['https://example.com/pay']);
    expect(of('date')).toEqual(['2024-03-12', '2024-04-11', '2024-03-05']);
    expect(of('money')).toEqual(['EUR 1234.50', 'USD 99.99']);
    expect(of('percent')).toEqual(['21%']);
    expect(of('phone')).toEqual(['+31201234567']);
    for (const e of entitiesOf(text, 'eng')) {
      expect(text.slice(e.start, e.end)).toBe(e.text);
      expect(e.confidence).toBeGreaterThan(0.5);
    }
  });

  it('reads numeric dates by the date order, and dates in French and German words', () => {
    expect(values('Date: 03/04/2025', 'eng', 'date', 'DMY')).toEqual(['2025-04-03']);
    expect(values('Date: 03/04/2025', 'eng', 'date', 'MDY')).toEqual(['2025-03-04']);
    expect(values('Facture du 3 avril 2025, échéance le 1er mai 2025', 'fra', 'date')).toEqual(['2025-04-03', '2025-05-01']);
    expect(values('Rechnung vom 3. April 2025, fällig am 15.05.2025', 'deu', 'date')).toEqual(['2025-04-03', '2025-05-15']);
    expect(values('seen on 14 July', 'eng', 'date')).toEqual(['--07-14']);
    expect(values('on 31/02/2024, see you tomorrow', 'eng', 'date')).toEqual([]);
  });

  it('reads amounts in the ways Europe and America write them', () => {
    expect(values('Montant : 1 234,56 € ou 1.234,56 EUR', 'fra', 'money')).toEqual(['EUR 1234.56', 'EUR 1234.56']);
    expect(values("Betrag CHF 1'250.00, 25,- €", 'deu', 'money')).toEqual(['CHF 1250.00', 'EUR 25.00']);
    expect(values('Total: USD 2,500 and ¥1200 and £3.5', 'eng', 'money')).toEqual(['USD 2500.00', 'JPY 1200', 'GBP 3.50']);
    expect(values('Room ABC 300 and 12 items', 'eng', 'money')).toEqual([]); // ABC is no currency
  });

  it('takes phone numbers that are valid in their region, in E.164', () => {
    expect(values('Call (818) 708-8131', 'eng', 'phone')).toEqual(['+18187088131']);
    expect(values('tél. 01 42 68 53 00', 'fra', 'phone')).toEqual(['+33142685300']); // the language's region
    expect(values('Tel. 030 1234567', 'deu', 'phone', 'DMY', 'DE')).toEqual(['+49301234567']);
    expect(values('Order 12345678901 shipped', 'eng', 'phone')).toEqual([]); // bare digits are a number, not a phone
    expect(values('Call 555-0000-99999-1', 'eng', 'phone')).toEqual([]);
  });

  it('takes IBANs and VAT ids whose checksum holds, and BICs where they are labelled', () => {
    const text = 'IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX, bad IBAN DE89 3704 0044 0532 0130 01, VAT DE136695976, not VAT DE136695977.';
    expect(values(text, 'eng', 'iban')).toEqual(['DE89370400440532013000']);
    expect(values(text, 'eng', 'bic')).toEqual(['COBADEFFXXX']);
    expect(values(text, 'eng', 'vat')).toEqual(['DE136695976']);
    expect(values('DEUTSCHE BANK', 'eng', 'bic')).toEqual([]);
  });

  it('finds people, places and organisations in English only', () => {
    const text = 'Dear Mr. John Smith, Acme Corporation in Springfield, Illinois thanks you.';
    expect(values(text, 'eng', 'person')).toEqual(['John Smith']);
    expect(values(text, 'eng', 'organization')).toEqual(['Acme Corporation']);
    expect(values(text, 'eng', 'place').join(' ')).toContain('Illinois');
    expect(values(text, 'fra', 'person')).toEqual([]);
    expect(values("Mr. Watson's house stood empty.", 'eng', 'person')).toEqual(['Watson']);
  });

  it('lets no two entities claim the same characters', () => {
    const entities = entitiesOf('IBAN FR76 3000 6000 0112 3456 7890 189 on 12.05.2024 mail a@b.fr', 'fra');
    expect(entities.map((e) => e.type)).toEqual(['iban', 'date', 'email']);
  });
});

describe('sentences and summary', () => {
  it('splits sentences at full stops but not after titles, and at lines no stop closes', () => {
    const page = 'Dear Mr. Smith,\n\nThank you for your order of 3 April. We shipped it\ntoday.\nACME Corp\n12 Main Street';
    const sentences = sentencesOf(page, 2);
    expect(sentences.map((s) => s.text)).toEqual([
      'Dear Mr. Smith,',
      'Thank you for your order of 3 April.',
      'We shipped it today.',
      'ACME Corp',
      '12 Main Street',
    ]);
    for (const s of sentences) expect(page.slice(s.start, s.end).replace(/\s+/g, ' ')).toBe(s.text);
    expect(sentences.every((s) => s.page === 2)).toBe(true);
    expect(sentencesOf('Unsere Rechnung vom 15.09.2021 über 1.234,56 € ist offen. Bitte zahlen Sie.', 0).map((s) => s.text)).toEqual([
      'Unsere Rechnung vom 15.09.2021 über 1.234,56 € ist offen.',
      'Bitte zahlen Sie.',
    ]);
  });

  it('keeps the sentences that carry the document, in their order', () => {
    const sentences = sentencesOf(
      'Solar panels turn sunlight into electricity for the house. The weather was nice. Solar panels on the roof make electricity all day. ' +
        'Electricity from solar panels costs less each year.',
      0,
    );
    const summary = summarize(sentences, 'eng', 3);
    expect(summary).not.toContain('The weather was nice.');
    expect(summary).toEqual(sentences.map((s) => s.text).filter((s) => summary.includes(s))); // in the document's order
    expect(summary).toHaveLength(3);
    expect(summarize(sentences, 'eng', 0)).toEqual([]);
  });
});

describe('classifiers', () => {
  const labels = {
    invoice: ['Invoice 12, amount due 300 USD, pay within 14 days', 'Invoice total due, payment terms, amount, VAT'],
    letter: ['Dear Sir, I write to thank you for your kind letter', 'Dear Madam, thank you for the lovely visit, yours sincerely'],
  };
  it('gives no label to a document like none of the examples, its best guess as the runner-up', () => {
    const classifier = trainClassifier(labels, 'bayes');
    const prose =
      'The committee met on 14 March to review the budget. Revenue rose, while costs fell slightly. Members agreed to publish the report.';
    expect(classifyText(classifier, prose, 'eng', 'x')).toMatchObject({ label: null, confidence: 0, runnerUp: { label: expect.any(String) } });
    expect(classifyText(classifier, 'Invoice 7: amount due 40 USD, pay within 14 days', 'eng', 'x')).toMatchObject({ label: 'invoice', known: 1 });
  });

  it.each(['bayes', 'logistic'] as const)('%s survives being stored and read back', (algorithm) => {
    const stored = restoreClassifier(serializeClassifier(trainClassifier(labels, algorithm)), algorithm);
    expect(classifyText(stored, 'Dear Sir, thank you for your letter. Yours sincerely', 'eng', 'x')!.label).toBe('letter');
    expect(classifyText(stored, 'The invoice amount is due: pay 40 USD', 'eng', 'x')!.label).toBe('invoice');
  });
});
