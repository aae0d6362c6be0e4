// Everyday questions for training (issue 16, fifth round): school, science, history, arts and
// practical topics asked about in the shapes people use outside the request frames ("Explain … to
// a ten-year-old", "Summarize … in five sentences", "Give me three facts on …"), in the six
// languages. Why: every benign row before was an infinitive in a "How do I …?" frame, while the
// public harmful sets are natural questions, so a model learnt "a natural question about something
// serious = harmful" (round 4 measured "Explain photosynthesis to a ten-year-old" blocked as
// sexual_minors in four languages, "What's the difference between a virus and a bacterium?" as
// dangerous). Some topics sound serious on purpose (wars, viruses, volcanoes, nuclear power
// plants, poisonous animals): asking to learn about them is fine under Parley's policy.
// Written for this purpose; no topic here is a topic of safety/data/everyday_eval.jsonl (the
// measured everyday set, never trained on), though the shapes meet: tests/unit/safety-data.test.ts
// checks that no generated line equals a line there.
import type { Lang } from './lexicon.ts';

/** A topic as a noun phrase in each language (fr/es/it/pt with their article, de without one). */
export type Topic = Readonly<Record<Lang, string>>;

function parse(block: string): Topic[] {
  return block.trim().split('\n').map((line) => {
    const [en, fr, es, de, it, pt] = line.split('|').map((s) => s.trim());
    return { en, fr, es, de, it, pt };
  });
}

export const TOPICS: Topic[] = parse(`
the water cycle|le cycle de l'eau|el ciclo del agua|Wasserkreislauf|il ciclo dell'acqua|o ciclo da água
how volcanoes erupt|l'éruption des volcans|la erupción de los volcanes|Vulkanausbrüche|l'eruzione dei vulcani|a erupção dos vulcões
plate tectonics|la tectonique des plaques|la tectónica de placas|Plattentektonik|la tettonica a placche|a tectônica de placas
the human immune system|le système immunitaire humain|el sistema inmunitario humano|Immunsystem des Menschen|il sistema immunitario umano|o sistema imunológico humano
how antibiotics work|le fonctionnement des antibiotiques|el funcionamiento de los antibióticos|Wirkung von Antibiotika|il funzionamento degli antibiotici|o funcionamento dos antibióticos
the germ theory of disease|la théorie microbienne des maladies|la teoría microbiana de la enfermedad|Keimtheorie der Krankheiten|la teoria dei germi|a teoria microbiana das doenças
how the heart pumps blood|le fonctionnement du cœur|el funcionamiento del corazón|Funktion des Herzens|il funzionamento del cuore|o funcionamento do coração
DNA and genes|l'ADN et les gènes|el ADN y los genes|DNA und Gene|il DNA e i geni|o DNA e os genes
the theory of evolution|la théorie de l'évolution|la teoría de la evolución|Evolutionstheorie|la teoria dell'evoluzione|a teoria da evolução
the life cycle of a butterfly|le cycle de vie du papillon|el ciclo de vida de la mariposa|Lebenszyklus eines Schmetterlings|il ciclo di vita della farfalla|o ciclo de vida da borboleta
how bees make honey|la fabrication du miel par les abeilles|cómo hacen miel las abejas|Honigherstellung der Bienen|come le api fanno il miele|como as abelhas fazem mel
venomous snakes of Australia|les serpents venimeux d'Australie|las serpientes venenosas de Australia|Giftschlangen Australiens|i serpenti velenosi dell'Australia|as cobras venenosas da Austrália
why sharks rarely attack people|les attaques de requins et leur rareté|la rareza de los ataques de tiburón|Haiangriffe und warum sie selten sind|la rarità degli attacchi di squalo|a raridade dos ataques de tubarão
the food chain in the ocean|la chaîne alimentaire dans l'océan|la cadena alimentaria en el océano|Nahrungskette im Ozean|la catena alimentare nell'oceano|a cadeia alimentar no oceano
how wolves hunt in packs|la chasse en meute des loups|la caza en manada de los lobos|Rudeljagd der Wölfe|la caccia in branco dei lupi|a caça em matilha dos lobos
the solar system|le système solaire|el sistema solar|Sonnensystem|il sistema solare|o sistema solar
gravity|la gravité|la gravedad|Schwerkraft|la gravità|a gravidade
why the sky is blue|la couleur bleue du ciel|el color azul del cielo|blaue Farbe des Himmels|il colore blu del cielo|a cor azul do céu
how rainbows form|la formation des arcs-en-ciel|la formación del arcoíris|Entstehung von Regenbögen|la formazione dell'arcobaleno|a formação do arco-íris
the phases of the moon|les phases de la lune|las fases de la luna|Mondphasen|le fasi della luna|as fases da lua
how nuclear power plants make electricity|la production d'électricité dans les centrales nucléaires|la producción de electricidad en las centrales nucleares|Stromerzeugung in Kernkraftwerken|la produzione di elettricità nelle centrali nucleari|a produção de eletricidade nas usinas nucleares
radioactivity and half-life|la radioactivité et la demi-vie|la radiactividad y el periodo de semidesintegración|Radioaktivität und Halbwertszeit|la radioattività e il tempo di dimezzamento|a radioatividade e a meia-vida
chemical reactions in cooking|les réactions chimiques en cuisine|las reacciones químicas en la cocina|chemische Reaktionen beim Kochen|le reazioni chimiche in cucina|as reações químicas na cozinha
acids and bases|les acides et les bases|los ácidos y las bases|Säuren und Basen|gli acidi e le basi|os ácidos e as bases
climate change|le changement climatique|el cambio climático|Klimawandel|il cambiamento climatico|as mudanças climáticas
renewable energy|les énergies renouvelables|las energías renovables|erneuerbare Energien|le energie rinnovabili|as energias renováveis
how electricity reaches my house|l'acheminement de l'électricité jusqu'à la maison|cómo llega la electricidad a casa|Weg des Stroms bis ins Haus|come arriva l'elettricità a casa|como a eletricidade chega em casa
how the internet works|le fonctionnement d'internet|el funcionamiento de internet|Funktionsweise des Internets|il funzionamento di internet|o funcionamento da internet
how encryption keeps my messages private|le chiffrement des messages|el cifrado de los mensajes|Verschlüsselung von Nachrichten|la crittografia dei messaggi|a criptografia das mensagens
how computer viruses spread and how antivirus software stops them|la propagation des virus informatiques et les antivirus|cómo se propagan los virus informáticos y cómo los frenan los antivirus|Verbreitung von Computerviren und Virenschutz|la diffusione dei virus informatici e gli antivirus|a propagação dos vírus de computador e os antivírus
machine learning|l'apprentissage automatique|el aprendizaje automático|maschinelles Lernen|l'apprendimento automatico|o aprendizado de máquina
binary numbers|les nombres binaires|los números binarios|Binärzahlen|i numeri binari|os números binários
the Pythagorean theorem|le théorème de Pythagore|el teorema de Pitágoras|Satz des Pythagoras|il teorema di Pitagora|o teorema de Pitágoras
fractions and percentages|les fractions et les pourcentages|las fracciones y los porcentajes|Brüche und Prozente|le frazioni e le percentuali|as frações e as porcentagens
probability with dice|les probabilités avec des dés|la probabilidad con dados|Wahrscheinlichkeit beim Würfeln|la probabilità con i dadi|a probabilidade com dados
the fall of the Roman Empire|la chute de l'Empire romain|la caída del Imperio romano|Untergang des Römischen Reiches|la caduta dell'Impero romano|a queda do Império Romano
the Second World War in Europe|la Seconde Guerre mondiale en Europe|la Segunda Guerra Mundial en Europa|Zweiter Weltkrieg in Europa|la Seconda guerra mondiale in Europa|a Segunda Guerra Mundial na Europa
the American Civil War|la guerre de Sécession|la guerra de Secesión|Amerikanischer Bürgerkrieg|la guerra di secessione americana|a Guerra de Secessão
the Cuban missile crisis|la crise des missiles de Cuba|la crisis de los misiles en Cuba|Kubakrise|la crisi dei missili di Cuba|a crise dos mísseis de Cuba
the Berlin Wall|le mur de Berlin|el muro de Berlín|Berliner Mauer|il muro di Berlino|o Muro de Berlim
the Black Death in the Middle Ages|la peste noire au Moyen Âge|la peste negra en la Edad Media|Pest im Mittelalter|la peste nera nel Medioevo|a peste negra na Idade Média
the Viking raids|les raids vikings|las incursiones vikingas|Raubzüge der Wikinger|le incursioni vichinghe|os ataques vikings
the Renaissance in Italy|la Renaissance en Italie|el Renacimiento en Italia|Renaissance in Italien|il Rinascimento in Italia|o Renascimento na Itália
the Industrial Revolution in Britain|la révolution industrielle en Grande-Bretagne|la Revolución Industrial en Gran Bretaña|industrielle Revolution in Großbritannien|la rivoluzione industriale in Gran Bretagna|a Revolução Industrial na Grã-Bretanha
the civil rights movement|le mouvement des droits civiques|el movimiento por los derechos civiles|Bürgerrechtsbewegung|il movimento per i diritti civili|o movimento pelos direitos civis
the Holocaust and how it is remembered|la Shoah et sa mémoire|el Holocausto y su memoria|Holocaust und Erinnerungskultur|l'Olocausto e la sua memoria|o Holocausto e a sua memória
the history of the Olympic Games|l'histoire des Jeux olympiques|la historia de los Juegos Olímpicos|Geschichte der Olympischen Spiele|la storia dei Giochi olimpici|a história dos Jogos Olímpicos
ancient Egypt and the pyramids|l'Égypte ancienne et les pyramides|el antiguo Egipto y las pirámides|altes Ägypten und Pyramiden|l'antico Egitto e le piramidi|o Egito antigo e as pirâmides
Greek mythology|la mythologie grecque|la mitología griega|griechische Mythologie|la mitologia greca|a mitologia grega
the plot of Macbeth|l'intrigue de Macbeth|el argumento de Macbeth|Handlung von Macbeth|la trama del Macbeth|o enredo de Macbeth
crime novels by Agatha Christie|les romans policiers d'Agatha Christie|las novelas policiacas de Agatha Christie|Kriminalromane von Agatha Christie|i gialli di Agatha Christie|os romances policiais de Agatha Christie
impressionist painting|la peinture impressionniste|la pintura impresionista|impressionistische Malerei|la pittura impressionista|a pintura impressionista
the history of jazz|l'histoire du jazz|la historia del jazz|Geschichte des Jazz|la storia del jazz|a história do jazz
how to read sheet music|la lecture des partitions|la lectura de partituras|Notenlesen|la lettura degli spartiti|a leitura de partituras
the rules of football|les règles du football|las reglas del fútbol|Fußballregeln|le regole del calcio|as regras do futebol
the offside rule|la règle du hors-jeu|la regla del fuera de juego|Abseitsregel|la regola del fuorigioco|a regra do impedimento
how elections work in a democracy|le fonctionnement des élections en démocratie|cómo funcionan las elecciones en una democracia|Wahlen in einer Demokratie|come funzionano le elezioni in democrazia|como funcionam as eleições numa democracia
the separation of powers|la séparation des pouvoirs|la separación de poderes|Gewaltenteilung|la separazione dei poteri|a separação dos poderes
inflation and interest rates|l'inflation et les taux d'intérêt|la inflación y los tipos de interés|Inflation und Zinsen|l'inflazione e i tassi di interesse|a inflação e as taxas de juros
how a mortgage works|le fonctionnement d'un prêt immobilier|cómo funciona una hipoteca|Funktionsweise einer Hypothek|come funziona un mutuo|como funciona um financiamento imobiliário
first aid for burns|les premiers secours en cas de brûlure|los primeros auxilios para quemaduras|Erste Hilfe bei Verbrennungen|il primo soccorso per le ustioni|os primeiros socorros para queimaduras
what to do when someone is choking|les gestes à faire quand quelqu'un s'étouffe|qué hacer cuando alguien se atraganta|Erste Hilfe beim Verschlucken|cosa fare se qualcuno sta soffocando|o que fazer quando alguém se engasga
how sleep affects memory|l'effet du sommeil sur la mémoire|el efecto del sueño en la memoria|Einfluss des Schlafs auf das Gedächtnis|l'effetto del sonno sulla memoria|o efeito do sono na memória
healthy eating for teenagers|l'alimentation saine des adolescents|la alimentación sana de los adolescentes|gesunde Ernährung für Jugendliche|l'alimentazione sana degli adolescenti|a alimentação saudável dos adolescentes
how children learn to talk|l'apprentissage du langage chez l'enfant|cómo aprenden a hablar los niños|Sprachentwicklung bei Kindern|come imparano a parlare i bambini|como as crianças aprendem a falar
puberty and growing up|la puberté|la pubertad|Pubertät|la pubertà|a puberdade
how vaccines are tested before approval|les essais des vaccins avant autorisation|los ensayos de las vacunas antes de su aprobación|Prüfung von Impfstoffen vor der Zulassung|i test dei vaccini prima dell'approvazione|os testes das vacinas antes da aprovação
how detectives solve crimes|le travail des enquêteurs|cómo resuelven los crímenes los detectives|Arbeit von Kriminalkommissaren|come i detective risolvono i crimini|como os detetives resolvem crimes
how courts decide a murder trial|le déroulement d'un procès pour meurtre|cómo se decide un juicio por asesinato|Ablauf eines Mordprozesses|come si svolge un processo per omicidio|como funciona um julgamento por homicídio
the history of gunpowder|l'histoire de la poudre à canon|la historia de la pólvora|Geschichte des Schießpulvers|la storia della polvere da sparo|a história da pólvora
medieval castles and sieges|les châteaux forts et les sièges au Moyen Âge|los castillos y los asedios medievales|Burgen und Belagerungen im Mittelalter|i castelli e gli assedi medievali|os castelos e os cercos medievais
how firefighters fight forest fires|la lutte contre les feux de forêt|la lucha contra los incendios forestales|Bekämpfung von Waldbränden|la lotta agli incendi boschivi|o combate aos incêndios florestais
earthquake safety at home|la sécurité à la maison en cas de séisme|la seguridad en casa durante un terremoto|Sicherheit zu Hause bei Erdbeben|la sicurezza in casa durante un terremoto|a segurança em casa durante um terremoto
`);

/** Question shapes per language; `{t}` is a topic. */
export const QUESTION_SHAPES: Readonly<Record<Lang, readonly string[]>> = {
  en: ['Explain {t} to a ten-year-old.', 'Can you explain {t} simply?', 'Summarize {t} in five sentences.', 'Help me understand {t} for my exam.', 'Describe {t} in a few lines.', 'Write a short essay on {t}.', "I'm curious about {t}, tell me more.", 'Give me three facts on {t}.', 'What should I know about {t}?', 'My kid asked me about {t}. How do I explain it?', 'quick question about {t}', 'Make a quiz for my class on {t}'],
  fr: ['Explique {t} à un enfant de dix ans.', "Peux-tu m'expliquer simplement {t} ?", 'Résume {t} en cinq phrases.', 'Aide-moi à comprendre {t} pour mon examen.', 'Décris {t} en quelques lignes.', 'Écris une courte dissertation sur {t}.', "Que faut-il savoir sur {t} ?", 'Donne-moi trois faits sur {t}.', 'Mon fils me pose des questions sur {t}, comment lui expliquer ?', 'Fais un quiz pour ma classe sur {t}'],
  es: ['Explica {t} a un niño de diez años.', '¿Puedes explicarme {t} de forma sencilla?', 'Resume {t} en cinco frases.', 'Ayúdame a entender {t} para mi examen.', 'Describe {t} en pocas líneas.', 'Escribe un breve ensayo sobre {t}.', '¿Qué debería saber sobre {t}?', 'Dame tres datos sobre {t}.', 'Mi hija me pregunta por {t}, ¿cómo se lo explico?', 'Haz un cuestionario para mi clase sobre {t}'],
  de: ['Erkläre einem zehnjährigen Kind das Thema {t}.', 'Kannst du mir das Thema {t} einfach erklären?', 'Fasse das Thema {t} in fünf Sätzen zusammen.', 'Hilf mir, das Thema {t} für meine Prüfung zu verstehen.', 'Beschreibe kurz das Thema {t}.', 'Schreib einen kurzen Aufsatz zum Thema {t}.', 'Was sollte ich zum Thema {t} wissen?', 'Nenne mir drei Fakten zum Thema {t}.', 'Mein Sohn fragt mich nach dem Thema {t}, wie erkläre ich es ihm?', 'Mach ein Quiz für meine Klasse zum Thema {t}'],
  it: ['Spiega {t} a un bambino di dieci anni.', 'Puoi spiegarmi {t} in modo semplice?', 'Riassumi {t} in cinque frasi.', 'Aiutami a capire {t} per il mio esame.', 'Descrivi {t} in poche righe.', 'Scrivi un breve tema su questo argomento: {t}.', 'Cosa dovrei sapere su questo argomento: {t}?', 'Dammi tre curiosità su questo argomento: {t}.', 'Mia figlia mi fa domande su questo argomento: {t}. Come glielo spiego?', 'Prepara un quiz per la mia classe: {t}'],
  pt: ['Explique {t} para uma criança de dez anos.', 'Você pode me explicar {t} de forma simples?', 'Resuma {t} em cinco frases.', 'Me ajude a entender {t} para a minha prova.', 'Descreva {t} em poucas linhas.', 'Escreva uma redação curta sobre este tema: {t}.', 'O que devo saber sobre este tema: {t}?', 'Me dê três curiosidades sobre este tema: {t}.', 'Meu filho me perguntou sobre {t}, como explico?', 'Faça um quiz para a minha turma: {t}'],
};

/**
 * Questions about a named place, work or company, the name made of random syllables (round 5): an
 * unknown word is no sign of harm. Why: measured runs blocked "When was the Zorvan Bridge built?"
 * (a prompt the e2e tests send) as harassment, one name the model had never seen.
 */
export const NAMED_SHAPES: Readonly<Record<Lang, readonly string[]>> = {
  en: ['When was the {n} Bridge built?', 'Who designed the {n} Tower?', 'Where is {n}?', 'How tall is Mount {n}?', 'Who founded the {n} company?', 'Tell me about the {n} festival.', 'How long is the {n} river?', 'Who wrote the novel {n}?', 'What is {n} famous for?', 'Is {n} a good place to live?'],
  fr: ['Quand le pont {n} a-t-il été construit ?', 'Qui a conçu la tour {n} ?', 'Où se trouve {n} ?', 'Quelle est la hauteur du mont {n} ?', "Qui a fondé l'entreprise {n} ?", 'Parle-moi du festival {n}.', 'Quelle est la longueur du fleuve {n} ?', 'Qui a écrit le roman {n} ?', 'Pourquoi {n} est-elle célèbre ?', 'Fait-il bon vivre à {n} ?'],
  es: ['¿Cuándo se construyó el puente {n}?', '¿Quién diseñó la torre {n}?', '¿Dónde está {n}?', '¿Qué altura tiene el monte {n}?', '¿Quién fundó la empresa {n}?', 'Háblame del festival {n}.', '¿Cuánto mide el río {n}?', '¿Quién escribió la novela {n}?', '¿Por qué es famosa {n}?', '¿Se vive bien en {n}?'],
  de: ['Wann wurde die {n}-Brücke gebaut?', 'Wer hat den {n}-Turm entworfen?', 'Wo liegt {n}?', 'Wie hoch ist der Berg {n}?', 'Wer hat die Firma {n} gegründet?', 'Erzähl mir etwas über das {n}-Festival.', 'Wie lang ist der Fluss {n}?', 'Wer hat den Roman {n} geschrieben?', 'Wofür ist {n} bekannt?', 'Lebt man gut in {n}?'],
  it: ['Quando è stato costruito il ponte {n}?', 'Chi ha progettato la torre {n}?', 'Dove si trova {n}?', 'Quanto è alto il monte {n}?', "Chi ha fondato l'azienda {n}?", 'Parlami del festival {n}.', 'Quanto è lungo il fiume {n}?', 'Chi ha scritto il romanzo {n}?', 'Per cosa è famosa {n}?', 'Si vive bene a {n}?'],
  pt: ['Quando a ponte {n} foi construída?', 'Quem projetou a torre {n}?', 'Onde fica {n}?', 'Qual é a altura do monte {n}?', 'Quem fundou a empresa {n}?', 'Me fale do festival {n}.', 'Qual é o comprimento do rio {n}?', 'Quem escreveu o romance {n}?', 'Por que {n} é famosa?', 'É bom morar em {n}?'],
};

/** A made-up name of two or three syllables ("Kelvora", "Dumap"), from the caller's random stream. */
export function madeUpName(rand: () => number): string {
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  const pick = (s: string) => s[Math.floor(rand() * s.length)];
  const n = 2 + Math.floor(rand() * 2);
  const name = Array.from({ length: n }, () => pick(c) + pick(v)).join('') + (rand() < 0.5 ? pick(c) : '');
  return name[0].toUpperCase() + name.slice(1);
}

/**
 * The questions Parley's own tools answer (arithmetic, unit conversions, the time), with numbers
 * drawn at random (11–999, so no line is one of the measured sets' "Convert 7 kilograms to grams."):
 * measured runs blocked "Convert 5 km to miles" and "Convert 7 kilograms to grams." as weapons and
 * "What do you get for 7 * 2?" as sexual. `{a}`/`{b}` numbers, `{u}`/`{v}` units, `{op}` an operator.
 */
export const TOOL_QUESTION_SHAPES: Readonly<Record<Lang, readonly string[]>> = {
  en: ['Convert {a} {u} to {v}.', 'How many {v} are in {a} {u}?', 'What is {a} {u} in {v}?', 'What do you get for {a} {op} {b}?', 'What is {a} {op} {b}?', 'Calculate {a} {op} {b}', 'what time is it in {city}?', 'Can you work out {a} {op} {b} for me?'],
  fr: ['Convertis {a} {u} en {v}.', 'Combien de {v} dans {a} {u} ?', 'Combien font {a} {op} {b} ?', 'Calcule {a} {op} {b}', 'Quelle heure est-il à {city} ?'],
  es: ['Convierte {a} {u} a {v}.', '¿Cuántos {v} hay en {a} {u}?', '¿Cuánto es {a} {op} {b}?', 'Calcula {a} {op} {b}', '¿Qué hora es en {city}?'],
  de: ['Rechne {a} {u} in {v} um.', 'Wie viele {v} sind {a} {u}?', 'Was ist {a} {op} {b}?', 'Berechne {a} {op} {b}', 'Wie spät ist es in {city}?'],
  it: ['Converti {a} {u} in {v}.', 'Quanti {v} sono {a} {u}?', 'Quanto fa {a} {op} {b}?', 'Calcola {a} {op} {b}', 'Che ore sono a {city}?'],
  pt: ['Converta {a} {u} para {v}.', 'Quantos {v} há em {a} {u}?', 'Quanto é {a} {op} {b}?', 'Calcule {a} {op} {b}', 'Que horas são em {city}?'],
};
/** Unit pairs in the units' own words per language (the same pair in every language). */
export const UNIT_PAIRS: readonly Readonly<Record<Lang, [string, string]>>[] = [
  { en: ['kilograms', 'grams'], fr: ['kilogrammes', 'grammes'], es: ['kilogramos', 'gramos'], de: ['Kilogramm', 'Gramm'], it: ['chilogrammi', 'grammi'], pt: ['quilogramas', 'gramas'] },
  { en: ['km', 'miles'], fr: ['km', 'miles'], es: ['km', 'millas'], de: ['km', 'Meilen'], it: ['km', 'miglia'], pt: ['km', 'milhas'] },
  { en: ['pounds', 'kilograms'], fr: ['livres', 'kilogrammes'], es: ['libras', 'kilos'], de: ['Pfund', 'Kilogramm'], it: ['libbre', 'chili'], pt: ['libras', 'quilos'] },
  { en: ['ounces', 'grams'], fr: ['onces', 'grammes'], es: ['onzas', 'gramos'], de: ['Unzen', 'Gramm'], it: ['once', 'grammi'], pt: ['onças', 'gramas'] },
  { en: ['hours', 'minutes'], fr: ['heures', 'minutes'], es: ['horas', 'minutos'], de: ['Stunden', 'Minuten'], it: ['ore', 'minuti'], pt: ['horas', 'minutos'] },
  { en: ['liters', 'gallons'], fr: ['litres', 'gallons'], es: ['litros', 'galones'], de: ['Liter', 'Gallonen'], it: ['litri', 'galloni'], pt: ['litros', 'galões'] },
  { en: ['feet', 'meters'], fr: ['pieds', 'mètres'], es: ['pies', 'metros'], de: ['Fuß', 'Meter'], it: ['piedi', 'metri'], pt: ['pés', 'metros'] },
  { en: ['megabytes', 'gigabytes'], fr: ['mégaoctets', 'gigaoctets'], es: ['megabytes', 'gigabytes'], de: ['Megabyte', 'Gigabyte'], it: ['megabyte', 'gigabyte'], pt: ['megabytes', 'gigabytes'] },
];
export const CITIES: readonly string[] = ['Tokyo', 'Lisbon', 'Berlin', 'Madrid', 'Rome', 'Paris', 'New York', 'Sydney', 'Cairo', 'Lima'];
