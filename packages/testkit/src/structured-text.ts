/** Words for structured test documents, in the three languages the layout bench reads. */
export type StructuredLanguage = 'eng' | 'fra' | 'deu';

interface Vocabulary {
  title: string[];
  headings: string[];
  sentences: string[];
  items: string[];
  tableHeads: string[];
  tableRows: string[];
  /** A column head and two values that split a region's row in two (a cell spanning two rows). */
  mode: [string, string, string];
  header: string;
  page: string;
  caption: string;
}

export const VOCABULARY: Record<StructuredLanguage, Vocabulary> = {
  eng: {
    title: ['Annual Report of the Harbour Authority', 'Quarterly Review of Regional Freight', 'Survey of Municipal Water Supply'],
    headings: [
      'Introduction',
      'Summary of Results',
      'Operating Costs',
      'Outlook for the Coming Year',
      'Methods and Sources',
      'Staff and Training',
      'Regional Differences',
      'Investments',
      'Safety Record',
      'Customer Complaints',
    ],
    sentences: [
      'The authority handled more cargo this year than in any year since the new quay was opened.',
      'Most of the growth came from container traffic, which rose by a fifth against the previous year.',
      'Bulk goods fell slightly, mainly because the coal terminal closed for repairs in the spring.',
      'Energy prices weighed on the budget, although the new cranes use less power than the old ones.',
      'We thank the pilots and the lock keepers, who kept the harbour open through two severe storms.',
      'The board expects traffic to grow more slowly next year as trade with the east recovers.',
      'All figures in this report are unaudited and may change when the accounts are closed.',
      'A third of the staff took part in the new safety course, and the rest will follow in the autumn.',
      'Complaints about noise at night have fallen since the trucks were moved to the northern gate.',
      'The survey covered every town of more than five thousand people in the region.',
    ],
    items: [
      'Container traffic rose by 21 percent',
      'Two new cranes entered service',
      'The northern gate opened in May',
      'Night work was cut by a third',
      'Water use per ton fell again',
    ],
    tableHeads: ['Region', 'Tons', 'Change', 'Staff', 'Cost'],
    tableRows: ['North', 'South', 'East', 'West', 'Centre', 'Coast'],
    mode: ['Mode', 'Road', 'Rail'],
    header: 'Harbour Authority',
    page: 'Page',
    caption: 'Table',
  },
  fra: {
    title: ['Rapport annuel de la capitainerie', 'Bilan trimestriel du fret régional', "Enquête sur l'eau potable des communes"],
    headings: [
      'Introduction',
      'Résumé des résultats',
      "Coûts d'exploitation",
      "Perspectives pour l'année prochaine",
      'Méthodes et sources',
      'Personnel et formation',
      'Différences régionales',
      'Investissements',
      'Bilan de sécurité',
      'Réclamations des clients',
    ],
    sentences: [
      "Le port a traité cette année plus de marchandises qu'en aucune année depuis l'ouverture du nouveau quai.",
      "L'essentiel de la croissance vient des conteneurs, dont le trafic a augmenté d'un cinquième.",
      'Les vracs ont légèrement reculé, surtout parce que le terminal charbonnier a fermé au printemps.',
      "Le prix de l'énergie a pesé sur le budget, même si les nouvelles grues consomment moins.",
      'Nous remercions les pilotes et les éclusiers, qui ont gardé le port ouvert pendant deux tempêtes.',
      "Le conseil s'attend à une croissance plus lente l'an prochain, à mesure que le commerce reprend.",
      'Tous les chiffres de ce rapport sont provisoires et peuvent changer à la clôture des comptes.',
      "Un tiers du personnel a suivi la nouvelle formation de sécurité, les autres suivront à l'automne.",
      'Les plaintes pour bruit nocturne ont baissé depuis que les camions passent par la porte nord.',
      "L'enquête a couvert toutes les communes de plus de cinq mille habitants de la région.",
    ],
    items: [
      'Le trafic des conteneurs a progressé de 21 %',
      'Deux nouvelles grues sont en service',
      'La porte nord a ouvert en mai',
      'Le travail de nuit a baissé',
      "La consommation d'eau a encore diminué",
    ],
    tableHeads: ['Région', 'Tonnes', 'Écart', 'Effectif', 'Coût'],
    tableRows: ['Nord', 'Sud', 'Est', 'Ouest', 'Centre', 'Côte'],
    mode: ['Mode', 'Route', 'Rail'],
    header: 'Capitainerie du port',
    page: 'Page',
    caption: 'Tableau',
  },
  deu: {
    title: ['Jahresbericht der Hafenbehörde', 'Quartalsbericht zum regionalen Güterverkehr', 'Erhebung zur kommunalen Wasserversorgung'],
    headings: [
      'Einleitung',
      'Zusammenfassung der Ergebnisse',
      'Betriebskosten',
      'Ausblick auf das kommende Jahr',
      'Methoden und Quellen',
      'Personal und Ausbildung',
      'Regionale Unterschiede',
      'Investitionen',
      'Sicherheitsbilanz',
      'Beschwerden der Kunden',
    ],
    sentences: [
      'Der Hafen hat in diesem Jahr mehr Güter umgeschlagen als in jedem Jahr seit der Eröffnung des neuen Kais.',
      'Der größte Teil des Wachstums stammt aus dem Containerverkehr, der um ein Fünftel zunahm.',
      'Massengüter gingen leicht zurück, vor allem weil das Kohleterminal im Frühjahr geschlossen war.',
      'Die Energiepreise belasteten den Haushalt, obwohl die neuen Kräne weniger Strom verbrauchen.',
      'Wir danken den Lotsen und Schleusenwärtern, die den Hafen während zweier Stürme offen hielten.',
      'Der Vorstand erwartet im nächsten Jahr ein langsameres Wachstum, während sich der Handel erholt.',
      'Alle Zahlen dieses Berichts sind vorläufig und können sich beim Abschluss der Konten ändern.',
      'Ein Drittel der Mitarbeiter hat die neue Sicherheitsschulung besucht, die übrigen folgen im Herbst.',
      'Die Beschwerden über nächtlichen Lärm sind gesunken, seit die Lastwagen das Nordtor benutzen.',
      'Die Erhebung umfasste alle Gemeinden der Region mit mehr als fünftausend Einwohnern.',
    ],
    items: [
      'Der Containerverkehr wuchs um 21 Prozent',
      'Zwei neue Kräne sind in Betrieb',
      'Das Nordtor wurde im Mai eröffnet',
      'Die Nachtarbeit sank um ein Drittel',
      'Der Wasserverbrauch sank erneut',
    ],
    tableHeads: ['Region', 'Tonnen', 'Änderung', 'Personal', 'Kosten'],
    tableRows: ['Nord', 'Süd', 'Ost', 'West', 'Mitte', 'Küste'],
    mode: ['Verkehr', 'Straße', 'Schiene'],
    header: 'Hafenbehörde',
    page: 'Seite',
    caption: 'Tabelle',
  },
};
