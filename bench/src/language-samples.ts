/**
 * Letters in Spanish, Italian, Dutch and Portuguese for the language-detection measure
 * (English, French and German come from testkit's business documents): each sample a few
 * sentences drawn from a language's own pool, names and numbers varied, 200 characters
 * and more. Written for this benchmark, not taken from any detector's training text.
 */

type Rand = () => number;

const POOLS: Record<string, { names: string[]; cities: string[]; sentences: ((name: string, city: string, n: number) => string)[] }> = {
  spa: {
    names: ['Carmen Ruiz', 'Javier López', 'Lucía Martín', 'Pablo Romero'],
    cities: ['Madrid', 'Sevilla', 'Valencia', 'Bilbao'],
    sentences: [
      (name) => `Estimado ${name}, le agradecemos su carta y la visita de la semana pasada.`,
      (_n, city) => `Nos alegra saber que el pedido llegó a ${city} en buen estado y sin retrasos.`,
      (_n, _c, n) => `Adjuntamos la factura número ${n}, que puede pagar mediante transferencia bancaria.`,
      () => 'Si tiene alguna pregunta sobre el contrato, no dude en ponerse en contacto con nosotros.',
      () => 'La próxima reunión se celebrará en nuestra oficina después de las vacaciones de verano.',
      () => 'Le rogamos que revise los documentos y nos devuelva una copia firmada cuanto antes.',
      () => 'Atentamente, el equipo de atención al cliente le envía un cordial saludo.',
    ],
  },
  ita: {
    names: ['Giulia Rossi', 'Marco Bianchi', 'Francesca Russo', 'Luca Ferrari'],
    cities: ['Roma', 'Milano', 'Torino', 'Napoli'],
    sentences: [
      (name) => `Gentile ${name}, la ringraziamo per la sua lettera e per la visita della settimana scorsa.`,
      (_n, city) => `Siamo lieti di sapere che la merce è arrivata a ${city} in perfette condizioni.`,
      (_n, _c, n) => `In allegato trova la fattura numero ${n}, da pagare tramite bonifico bancario.`,
      () => 'Per qualsiasi domanda sul contratto non esiti a contattare il nostro ufficio.',
      () => 'La prossima riunione si terrà nella nostra sede dopo le vacanze estive.',
      () => 'Le chiediamo di controllare i documenti e di restituirci una copia firmata al più presto.',
      () => 'Cordiali saluti da tutto il servizio clienti, sempre a sua disposizione.',
    ],
  },
  nld: {
    names: ['Sanne de Vries', 'Daan Jansen', 'Emma Bakker', 'Lars Visser'],
    cities: ['Amsterdam', 'Utrecht', 'Rotterdam', 'Groningen'],
    sentences: [
      (name) => `Beste ${name}, hartelijk dank voor uw brief en voor uw bezoek van vorige week.`,
      (_n, city) => `Wij zijn blij te horen dat de bestelling goed in ${city} is aangekomen.`,
      (_n, _c, n) => `In de bijlage vindt u factuur nummer ${n}, die u per bankoverschrijving kunt betalen.`,
      () => 'Als u vragen heeft over het contract, neem dan gerust contact met ons op.',
      () => 'De volgende vergadering vindt na de zomervakantie op ons kantoor plaats.',
      () => 'Wij verzoeken u de documenten te controleren en ons zo snel mogelijk een getekend exemplaar terug te sturen.',
      () => 'Met vriendelijke groet, namens de hele klantenservice.',
    ],
  },
  por: {
    names: ['Ana Silva', 'João Pereira', 'Mariana Costa', 'Pedro Santos'],
    cities: ['Lisboa', 'Porto', 'Coimbra', 'Braga'],
    sentences: [
      (name) => `Caro ${name}, agradecemos a sua carta e a visita da semana passada.`,
      (_n, city) => `Ficamos contentes por saber que a encomenda chegou a ${city} em bom estado.`,
      (_n, _c, n) => `Em anexo encontra a fatura número ${n}, que pode pagar por transferência bancária.`,
      () => 'Se tiver alguma dúvida sobre o contrato, não hesite em contactar o nosso escritório.',
      () => 'A próxima reunião realizar-se-á no nosso escritório depois das férias de verão.',
      () => 'Pedimos que verifique os documentos e nos devolva uma cópia assinada o mais depressa possível.',
      () => 'Com os melhores cumprimentos de toda a equipa de apoio ao cliente.',
    ],
  },
};

export const SAMPLE_LANGUAGES = Object.keys(POOLS);

/** `count` texts of at least 200 characters in `language`. */
export function languageSamples(language: string, count: number, rand: Rand): string[] {
  const pool = POOLS[language]!;
  const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)]!;
  const samples: string[] = [];
  for (let i = 0; i < count; i++) {
    const order = pool.sentences.map((s) => ({ s, key: rand() })).sort((a, b) => a.key - b.key);
    const [name, city, n] = [pick(pool.names), pick(pool.cities), 1000 + Math.floor(rand() * 9000)];
    let text = '';
    for (const { s } of order) {
      if (text.length >= 200) break;
      text += `${text ? ' ' : ''}${s(name, city, n)}`;
    }
    samples.push(text);
  }
  return samples;
}
