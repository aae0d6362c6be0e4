// Everyday requests for training (issue 16, second round): ordinary things people ask a chat
// assistant, in the six languages, many with a word a filter looks at in its harmless sense (shoot a
// video, kill time, crack an egg, execute a script, burn calories). Written for this purpose, in
// the request frames of lexicon.ts, so that "How do I …?" with an unseen harmless ending is not read
// as a request for harm. Distinct from safety/data/everyday_eval.jsonl (the measured everyday set,
// never trained on): no line here is a line there, though some topics (cooking, code, travel) meet.
import type { Intent, Lang } from './lexicon.ts';

function parse(block: string): Intent[] {
  return block.trim().split('\n').map((line) => {
    const [en, fr, es, de, it, pt] = line.split('|').map((s) => s.trim());
    return { category: null, text: { en, fr, es, de, it, pt } as Record<Lang, string> };
  });
}

export const EVERYDAY_INTENTS: Intent[] = parse(`
make a risotto with mushrooms|faire un risotto aux champignons|hacer un risotto de setas|ein Pilzrisotto machen|fare un risotto ai funghi|fazer um risoto de cogumelos
bake a chocolate cake for ten people|faire un gâteau au chocolat pour dix personnes|hornear un pastel de chocolate para diez personas|einen Schokoladenkuchen für zehn Personen backen|preparare una torta al cioccolato per dieci persone|fazer um bolo de chocolate para dez pessoas
crack an egg with one hand|casser un œuf d'une seule main|romper un huevo con una mano|ein Ei mit einer Hand aufschlagen|rompere un uovo con una mano|quebrar um ovo com uma mão
beat egg whites until stiff|battre des blancs en neige|batir claras a punto de nieve|Eiweiß steif schlagen|montare gli albumi a neve|bater claras em neve
fire up a charcoal grill|allumer un barbecue au charbon|encender una parrilla de carbón|einen Holzkohlegrill anzünden|accendere una griglia a carbone|acender uma churrasqueira a carvão
keep bread fresh for longer|garder le pain frais plus longtemps|mantener el pan fresco más tiempo|Brot länger frisch halten|mantenere il pane fresco più a lungo|manter o pão fresco por mais tempo
write a Python script that renames files in a folder|écrire un script Python qui renomme les fichiers d'un dossier|escribir un script de Python que renombre archivos de una carpeta|ein Python-Skript schreiben, das Dateien in einem Ordner umbenennt|scrivere uno script Python che rinomina i file di una cartella|escrever um script Python que renomeia arquivos de uma pasta
execute a shell script every night with cron|exécuter un script shell chaque nuit avec cron|ejecutar un script de shell cada noche con cron|jede Nacht ein Shell-Skript mit cron ausführen|eseguire uno script shell ogni notte con cron|executar um script shell toda noite com cron
drop a table in PostgreSQL|supprimer une table dans PostgreSQL|borrar una tabla en PostgreSQL|eine Tabelle in PostgreSQL löschen|eliminare una tabella in PostgreSQL|apagar uma tabela no PostgreSQL
terminate a thread cleanly in Java|terminer proprement un thread en Java|terminar un hilo limpiamente en Java|einen Thread in Java sauber beenden|terminare un thread in modo pulito in Java|encerrar uma thread de forma limpa em Java
force quit a frozen app on my Mac|forcer à quitter une application bloquée sur mon Mac|forzar el cierre de una aplicación colgada en mi Mac|eine eingefrorene App auf meinem Mac sofort beenden|chiudere forzatamente un'app bloccata sul mio Mac|forçar o fechamento de um app travado no meu Mac
speed up a slow laptop|accélérer un ordinateur portable lent|acelerar un portátil lento|einen langsamen Laptop schneller machen|velocizzare un portatile lento|acelerar um notebook lento
back up my photos to an external drive|sauvegarder mes photos sur un disque externe|hacer una copia de seguridad de mis fotos en un disco externo|meine Fotos auf einer externen Festplatte sichern|fare il backup delle mie foto su un disco esterno|fazer backup das minhas fotos em um HD externo
reset my own router password|réinitialiser le mot de passe de mon propre routeur|restablecer la contraseña de mi propio router|das Passwort meines eigenen Routers zurücksetzen|reimpostare la password del mio router|redefinir a senha do meu próprio roteador
learn to code in JavaScript as a beginner|apprendre à coder en JavaScript en débutant|aprender a programar en JavaScript desde cero|als Anfänger JavaScript programmieren lernen|imparare a programmare in JavaScript da principiante|aprender a programar em JavaScript do zero
sort a list of numbers in C|trier une liste de nombres en C|ordenar una lista de números en C|eine Liste von Zahlen in C sortieren|ordinare una lista di numeri in C|ordenar uma lista de números em C
shoot a video for my cousin's wedding|filmer une vidéo pour le mariage de mon cousin|grabar un vídeo para la boda de mi primo|ein Video für die Hochzeit meines Cousins drehen|girare un video per il matrimonio di mio cugino|gravar um vídeo para o casamento do meu primo
kill time at the airport during a long layover|tuer le temps à l'aéroport pendant une longue escale|matar el tiempo en el aeropuerto durante una escala larga|am Flughafen bei einem langen Umstieg die Zeit totschlagen|ammazzare il tempo in aeroporto durante un lungo scalo|matar o tempo no aeroporto durante uma escala longa
burn more calories when I walk|brûler plus de calories en marchant|quemar más calorías al caminar|beim Gehen mehr Kalorien verbrennen|bruciare più calorie camminando|queimar mais calorias caminhando
build muscle without a gym|prendre du muscle sans salle de sport|ganar músculo sin ir al gimnasio|ohne Fitnessstudio Muskeln aufbauen|mettere su muscoli senza palestra|ganhar músculos sem academia
run a marathon in under four hours|courir un marathon en moins de quatre heures|correr un maratón en menos de cuatro horas|einen Marathon unter vier Stunden laufen|correre una maratona in meno di quattro ore|correr uma maratona em menos de quatro horas
win a chess game with the Sicilian defence|gagner une partie d'échecs avec la défense sicilienne|ganar una partida de ajedrez con la defensa siciliana|eine Schachpartie mit der Sizilianischen Verteidigung gewinnen|vincere una partita a scacchi con la difesa siciliana|ganhar uma partida de xadrez com a defesa siciliana
blow out all the candles on a birthday cake|souffler toutes les bougies d'un gâteau d'anniversaire|soplar todas las velas de una tarta de cumpleaños|alle Kerzen auf einer Geburtstagstorte auspusten|spegnere tutte le candeline di una torta|soprar todas as velas de um bolo de aniversário
get a stubborn stain out of a white shirt|enlever une tache tenace d'une chemise blanche|quitar una mancha difícil de una camisa blanca|einen hartnäckigen Fleck aus einem weißen Hemd entfernen|togliere una macchia ostinata da una camicia bianca|tirar uma mancha difícil de uma camisa branca
unclog a kitchen sink|déboucher un évier de cuisine|desatascar el fregadero de la cocina|einen verstopften Küchenabfluss frei machen|sturare il lavandino della cucina|desentupir a pia da cozinha
paint a bedroom wall without streaks|peindre un mur de chambre sans traces|pintar la pared del dormitorio sin marcas|eine Schlafzimmerwand streifenfrei streichen|dipingere una parete della camera senza strisce|pintar a parede do quarto sem manchas
hang a heavy mirror on a wall|accrocher un miroir lourd au mur|colgar un espejo pesado en la pared|einen schweren Spiegel an die Wand hängen|appendere uno specchio pesante al muro|pendurar um espelho pesado na parede
get rid of mould in the bathroom|se débarrasser de la moisissure dans la salle de bain|eliminar el moho del baño|Schimmel im Badezimmer loswerden|eliminare la muffa in bagno|acabar com o mofo no banheiro
keep slugs away from my lettuce|éloigner les limaces de mes salades|alejar las babosas de mis lechugas|Schnecken von meinem Salat fernhalten|tenere lontane le lumache dalla lattuga|manter as lesmas longe da minha alface
prune a rose bush in winter|tailler un rosier en hiver|podar un rosal en invierno|einen Rosenstrauch im Winter schneiden|potare una rosa in inverno|podar uma roseira no inverno
train my puppy to sit|apprendre à mon chiot à s'asseoir|enseñar a mi cachorro a sentarse|meinem Welpen Sitz beibringen|insegnare al mio cucciolo a sedersi|ensinar meu filhote a sentar
stop my cat from scratching the sofa|empêcher mon chat de griffer le canapé|evitar que mi gato arañe el sofá|meine Katze davon abhalten, das Sofa zu zerkratzen|impedire al mio gatto di graffiare il divano|impedir meu gato de arranhar o sofá
save money on groceries every month|économiser sur les courses chaque mois|ahorrar dinero en la compra cada mes|jeden Monat beim Einkaufen Geld sparen|risparmiare sulla spesa ogni mese|economizar no supermercado todo mês
make a monthly budget in a spreadsheet|faire un budget mensuel dans un tableur|hacer un presupuesto mensual en una hoja de cálculo|ein Monatsbudget in einer Tabelle erstellen|fare un budget mensile in un foglio di calcolo|fazer um orçamento mensal numa planilha
file my tax return online|déclarer mes impôts en ligne|presentar mi declaración de la renta por internet|meine Steuererklärung online abgeben|presentare la dichiarazione dei redditi online|declarar meu imposto de renda pela internet
open a savings account for my daughter|ouvrir un compte épargne pour ma fille|abrir una cuenta de ahorro para mi hija|ein Sparkonto für meine Tochter eröffnen|aprire un conto di risparmio per mia figlia|abrir uma poupança para minha filha
pass my driving test on the first try|réussir mon permis de conduire du premier coup|aprobar el examen de conducir a la primera|die Führerscheinprüfung beim ersten Mal bestehen|passare l'esame di guida al primo tentativo|passar no exame de direção de primeira
book a cheap flight to Madrid|réserver un vol pas cher pour Madrid|reservar un vuelo barato a Madrid|einen günstigen Flug nach Madrid buchen|prenotare un volo economico per Madrid|reservar um voo barato para Madri
pack a carry-on bag for two weeks|préparer un bagage cabine pour deux semaines|hacer una maleta de mano para dos semanas|einen Handgepäckkoffer für zwei Wochen packen|preparare un bagaglio a mano per due settimane|fazer uma mala de mão para duas semanas
avoid jet lag after a long flight|éviter le décalage horaire après un long vol|evitar el jet lag después de un vuelo largo|nach einem langen Flug Jetlag vermeiden|evitare il jet lag dopo un volo lungo|evitar o jet lag depois de um voo longo
find a cheap hotel near the old town|trouver un hôtel pas cher près de la vieille ville|encontrar un hotel barato cerca del casco antiguo|ein günstiges Hotel in der Nähe der Altstadt finden|trovare un hotel economico vicino al centro storico|encontrar um hotel barato perto do centro histórico
learn the French subjunctive|apprendre le subjonctif en français|aprender el subjuntivo en francés|den französischen Subjonctif lernen|imparare il congiuntivo francese|aprender o subjuntivo em francês
solve a quadratic equation|résoudre une équation du second degré|resolver una ecuación de segundo grado|eine quadratische Gleichung lösen|risolvere un'equazione di secondo grado|resolver uma equação do segundo grau
write an essay about the Industrial Revolution|écrire une dissertation sur la révolution industrielle|escribir un ensayo sobre la Revolución Industrial|einen Aufsatz über die Industrielle Revolution schreiben|scrivere un tema sulla rivoluzione industriale|escrever uma redação sobre a Revolução Industrial
understand how the Cold War started|comprendre comment la guerre froide a commencé|entender cómo empezó la Guerra Fría|verstehen, wie der Kalte Krieg begann|capire come è iniziata la guerra fredda|entender como começou a Guerra Fria
memorize the periodic table|mémoriser le tableau périodique|memorizar la tabla periódica|das Periodensystem auswendig lernen|memorizzare la tavola periodica|memorizar a tabela periódica
prepare for a history exam on Napoleon|réviser un examen d'histoire sur Napoléon|preparar un examen de historia sobre Napoleón|mich auf eine Geschichtsprüfung über Napoleon vorbereiten|prepararmi per un esame di storia su Napoleone|estudar para uma prova de história sobre Napoleão
treat a mild sunburn|soigner un léger coup de soleil|tratar una quemadura solar leve|einen leichten Sonnenbrand behandeln|curare una leggera scottatura solare|tratar uma queimadura de sol leve
sleep better when I am stressed|mieux dormir quand je suis stressé|dormir mejor cuando estoy estresado|besser schlafen, wenn ich gestresst bin|dormire meglio quando sono stressato|dormir melhor quando estou estressado
know if a cut needs stitches|savoir si une coupure a besoin de points de suture|saber si un corte necesita puntos|erkennen, ob ein Schnitt genäht werden muss|capire se un taglio ha bisogno di punti|saber se um corte precisa de pontos
get over a cold faster|guérir plus vite d'un rhume|curarme antes de un resfriado|eine Erkältung schneller loswerden|guarire prima dal raffreddore|melhorar mais rápido de um resfriado
take care of a sprained ankle|soigner une entorse à la cheville|cuidar un esguince de tobillo|einen verstauchten Knöchel versorgen|curare una distorsione alla caviglia|cuidar de um tornozelo torcido
talk to my doctor about anxiety|parler de mon anxiété à mon médecin|hablar con mi médico sobre la ansiedad|mit meinem Arzt über Angst sprechen|parlare con il mio medico dell'ansia|conversar com meu médico sobre ansiedade
cut my own hair at home|me couper les cheveux moi-même à la maison|cortarme el pelo en casa|mir zu Hause selbst die Haare schneiden|tagliarmi i capelli da solo a casa|cortar meu próprio cabelo em casa
carve a pumpkin for Halloween|sculpter une citrouille pour Halloween|tallar una calabaza para Halloween|einen Kürbis für Halloween schnitzen|intagliare una zucca per Halloween|esculpir uma abóbora para o Halloween
sharpen a kitchen knife|aiguiser un couteau de cuisine|afilar un cuchillo de cocina|ein Küchenmesser schärfen|affilare un coltello da cucina|afiar uma faca de cozinha
plan a surprise party for my wife|organiser une fête surprise pour ma femme|organizar una fiesta sorpresa para mi mujer|eine Überraschungsparty für meine Frau planen|organizzare una festa a sorpresa per mia moglie|planejar uma festa surpresa para minha esposa
write a speech for my best friend's wedding|écrire un discours pour le mariage de mon meilleur ami|escribir un discurso para la boda de mi mejor amigo|eine Rede für die Hochzeit meines besten Freundes schreiben|scrivere un discorso per il matrimonio del mio migliore amico|escrever um discurso para o casamento do meu melhor amigo
apologize to a friend I hurt|m'excuser auprès d'un ami que j'ai blessé|pedir perdón a un amigo al que hice daño|mich bei einem Freund entschuldigen, den ich verletzt habe|chiedere scusa a un amico che ho ferito|pedir desculpas a um amigo que magoei
deal with a rude customer at work|gérer un client impoli au travail|tratar con un cliente grosero en el trabajo|mit einem unhöflichen Kunden bei der Arbeit umgehen|gestire un cliente maleducato al lavoro|lidar com um cliente grosseiro no trabalho
ask my boss for a day off|demander un jour de congé à mon patron|pedirle a mi jefe un día libre|meinen Chef um einen freien Tag bitten|chiedere al mio capo un giorno libero|pedir um dia de folga ao meu chefe
quit my job politely|démissionner poliment|dejar mi trabajo de forma educada|höflich kündigen|licenziarmi in modo educato|pedir demissão com educação
recover after I bombed a job interview|me remettre d'un entretien d'embauche raté|recuperarme después de hacer fatal una entrevista de trabajo|mich erholen, nachdem ich ein Vorstellungsgespräch vermasselt habe|riprendermi dopo aver fallito un colloquio di lavoro|me recuperar depois de ir mal numa entrevista de emprego
track my parcel from an online order|suivre mon colis d'une commande en ligne|rastrear mi paquete de un pedido por internet|mein Paket einer Online-Bestellung verfolgen|tracciare il mio pacco di un ordine online|rastrear minha encomenda de uma compra online
hack my morning routine to be more productive|optimiser ma routine du matin pour être plus productif|mejorar mi rutina de mañana para ser más productivo|meine Morgenroutine optimieren, um produktiver zu sein|migliorare la mia routine mattutina per essere più produttivo|melhorar minha rotina matinal para ser mais produtivo
steal second base in a baseball game|voler la deuxième base au baseball|robar la segunda base en un partido de béisbol|im Baseball die zweite Base stehlen|rubare la seconda base nel baseball|roubar a segunda base no beisebol
take a great shot of the moon with my phone|prendre une belle photo de la lune avec mon téléphone|hacer una buena foto de la luna con el móvil|mit dem Handy ein tolles Foto vom Mond machen|fare una bella foto della luna con il telefono|tirar uma ótima foto da lua com o celular
play a G chord on the guitar|jouer un accord de sol à la guitare|tocar un acorde de sol en la guitarra|einen G-Akkord auf der Gitarre spielen|suonare un accordo di sol alla chitarra|tocar um acorde de sol no violão
write a love poem for my girlfriend|écrire un poème d'amour pour ma copine|escribir un poema de amor para mi novia|ein Liebesgedicht für meine Freundin schreiben|scrivere una poesia d'amore per la mia ragazza|escrever um poema de amor para minha namorada
summarize a long article in three bullet points|résumer un long article en trois points|resumir un artículo largo en tres puntos|einen langen Artikel in drei Stichpunkten zusammenfassen|riassumere un articolo lungo in tre punti|resumir um artigo longo em três tópicos
convert Celsius to Fahrenheit in my head|convertir les degrés Celsius en Fahrenheit de tête|convertir grados Celsius a Fahrenheit de cabeza|Celsius im Kopf in Fahrenheit umrechnen|convertire i gradi Celsius in Fahrenheit a mente|converter Celsius para Fahrenheit de cabeça
count the words in a text file|compter les mots d'un fichier texte|contar las palabras de un archivo de texto|die Wörter in einer Textdatei zählen|contare le parole in un file di testo|contar as palavras de um arquivo de texto
calculate the area of a circle|calculer l'aire d'un cercle|calcular el área de un círculo|die Fläche eines Kreises berechnen|calcolare l'area di un cerchio|calcular a área de um círculo
choose a name for my new bakery|choisir un nom pour ma nouvelle boulangerie|elegir un nombre para mi nueva panadería|einen Namen für meine neue Bäckerei finden|scegliere un nome per la mia nuova panetteria|escolher um nome para minha nova padaria
start a vegetable garden on my balcony|faire un potager sur mon balcon|empezar un huerto en mi balcón|einen Gemüsegarten auf meinem Balkon anlegen|fare un orto sul mio balcone|começar uma horta na minha varanda
clean the inside of my oven|nettoyer l'intérieur de mon four|limpiar el interior del horno|das Innere meines Backofens reinigen|pulire l'interno del forno|limpar o interior do meu forno
recycle old batteries safely|recycler les vieilles piles en toute sécurité|reciclar pilas viejas de forma segura|alte Batterien sicher recyceln|riciclare le vecchie batterie in sicurezza|reciclar pilhas velhas com segurança
`);

/**
 * Short things people tell an assistant about themselves, as statements (no request frame). Measured:
 * trained only on requests, the model read a bare first-person statement as a privacy or
 * harassment request. The e2e tests send statements of this shape ("My name is Ada."), so the
 * test-prompt check in the model card is not independent of these lines.
 */
export const EVERYDAY_STATEMENTS: Intent[] = parse(`
My favourite colour is green|Ma couleur préférée est le vert|Mi color favorito es el verde|Meine Lieblingsfarbe ist Grün|Il mio colore preferito è il verde|Minha cor favorita é verde
My favourite food is pizza|Mon plat préféré est la pizza|Mi comida favorita es la pizza|Mein Lieblingsessen ist Pizza|Il mio cibo preferito è la pizza|Minha comida favorita é pizza
I live in a small town near the sea|J'habite dans une petite ville au bord de la mer|Vivo en un pueblo pequeño cerca del mar|Ich wohne in einer kleinen Stadt am Meer|Vivo in una piccola città vicino al mare|Moro numa cidade pequena perto do mar
My brother is a teacher in Porto|Mon frère est professeur à Porto|Mi hermano es profesor en Oporto|Mein Bruder ist Lehrer in Porto|Mio fratello è insegnante a Porto|Meu irmão é professor no Porto
I have two cats and a dog|J'ai deux chats et un chien|Tengo dos gatos y un perro|Ich habe zwei Katzen und einen Hund|Ho due gatti e un cane|Tenho dois gatos e um cachorro
I work as a nurse at night|Je travaille comme infirmière la nuit|Trabajo de enfermera por la noche|Ich arbeite nachts als Krankenschwester|Lavoro come infermiera di notte|Trabalho como enfermeira à noite
Hello, how are you doing today|Bonjour, comment vas-tu aujourd'hui|Hola, ¿qué tal estás hoy|Hallo, wie geht es dir heute|Ciao, come stai oggi|Olá, como você está hoje
Good morning, I hope you slept well|Bonjour, j'espère que tu as bien dormi|Buenos días, espero que hayas dormido bien|Guten Morgen, ich hoffe, du hast gut geschlafen|Buongiorno, spero che tu abbia dormito bene|Bom dia, espero que tenha dormido bem
My favourite city is Vienna because of the music|Ma ville préférée est Vienne pour la musique|Mi ciudad favorita es Viena por la música|Meine Lieblingsstadt ist Wien wegen der Musik|La mia città preferita è Vienna per la musica|Minha cidade favorita é Viena por causa da música
I am learning to play the piano|J'apprends à jouer du piano|Estoy aprendiendo a tocar el piano|Ich lerne Klavier spielen|Sto imparando a suonare il pianoforte|Estou aprendendo a tocar piano
My birthday is in March|Mon anniversaire est en mars|Mi cumpleaños es en marzo|Mein Geburtstag ist im März|Il mio compleanno è a marzo|Meu aniversário é em março
I prefer tea to coffee in the morning|Je préfère le thé au café le matin|Prefiero el té al café por la mañana|Ich trinke morgens lieber Tee als Kaffee|Preferisco il tè al caffè la mattina|Prefiro chá a café de manhã
We are moving to a new flat next month|Nous déménageons dans un nouvel appartement le mois prochain|Nos mudamos a un piso nuevo el mes que viene|Wir ziehen nächsten Monat in eine neue Wohnung|Il mese prossimo ci trasferiamo in un nuovo appartamento|Vamos mudar para um apartamento novo no mês que vem
My daughter started school this week|Ma fille a commencé l'école cette semaine|Mi hija empezó el colegio esta semana|Meine Tochter ist diese Woche in die Schule gekommen|Mia figlia ha iniziato la scuola questa settimana|Minha filha começou a escola esta semana
`);

/**
 * Round 5: more everyday requests with a verb a filter looks at (kill, cut, fix, remove, destroy,
 * inject, execute, shoot, attack…) in its harmless sense, for the request frames. Why: the char-CNN
 * of round 4 carried "How do I <verb> …" across languages and blocked "How do I fix a merge conflict
 * in git?", "How do I cut an onion without crying?" and "How do I kill the ssh agent…?" at every
 * seed. None of these lines is a line of the everyday sets (tests/unit/safety-data.test.ts).
 */
export const EVERYDAY_INTENTS_2: Intent[] = parse(`
undo my last commit in git|annuler mon dernier commit dans git|deshacer mi último commit en git|meinen letzten Commit in git rückgängig machen|annullare il mio ultimo commit in git|desfazer meu último commit no git
delete a remote branch in git|supprimer une branche distante dans git|borrar una rama remota en git|einen Remote-Branch in git löschen|eliminare un branch remoto in git|apagar um branch remoto no git
fix a rebase that went wrong|réparer un rebase qui a mal tourné|arreglar un rebase que salió mal|einen missglückten Rebase reparieren|sistemare un rebase andato male|consertar um rebase que deu errado
kill a zombie process on Ubuntu|tuer un processus zombie sous Ubuntu|matar un proceso zombi en Ubuntu|einen Zombie-Prozess unter Ubuntu beenden|uccidere un processo zombie su Ubuntu|matar um processo zumbi no Ubuntu
stop all running Docker containers|arrêter tous les conteneurs Docker en cours|detener todos los contenedores de Docker|alle laufenden Docker-Container stoppen|fermare tutti i container Docker attivi|parar todos os containers Docker em execução
terminate a cloud server I no longer need|résilier un serveur cloud dont je n'ai plus besoin|dar de baja un servidor en la nube que ya no uso|einen Cloud-Server kündigen, den ich nicht mehr brauche|disattivare un server cloud che non mi serve più|encerrar um servidor na nuvem que não uso mais
inject dependencies in a Spring application|injecter des dépendances dans une application Spring|inyectar dependencias en una aplicación Spring|Abhängigkeiten in einer Spring-Anwendung injizieren|iniettare le dipendenze in un'applicazione Spring|injetar dependências em uma aplicação Spring
execute a stored procedure in SQL Server|exécuter une procédure stockée dans SQL Server|ejecutar un procedimiento almacenado en SQL Server|eine gespeicherte Prozedur in SQL Server ausführen|eseguire una stored procedure in SQL Server|executar uma procedure no SQL Server
wipe my old phone before selling it|effacer mon ancien téléphone avant de le vendre|borrar mi móvil viejo antes de venderlo|mein altes Handy vor dem Verkauf löschen|cancellare il mio vecchio telefono prima di venderlo|apagar meu celular antigo antes de vender
destroy old hard drives before recycling them|détruire de vieux disques durs avant de les recycler|destruir discos duros viejos antes de reciclarlos|alte Festplatten vor dem Recycling zerstören|distruggere vecchi dischi rigidi prima di riciclarli|destruir HDs antigos antes de reciclar
block adult websites on my kids' tablet|bloquer les sites pour adultes sur la tablette de mes enfants|bloquear las webs para adultos en la tableta de mis hijos|Erwachsenenseiten auf dem Tablet meiner Kinder sperren|bloccare i siti per adulti sul tablet dei miei figli|bloquear sites adultos no tablet dos meus filhos
hack together a quick prototype in Python|bricoler un prototype rapide en Python|montar un prototipo rápido en Python|schnell einen Prototyp in Python zusammenhacken|mettere insieme un prototipo veloce in Python|montar um protótipo rápido em Python
freeze the top row in Excel|figer la première ligne dans Excel|inmovilizar la primera fila en Excel|die oberste Zeile in Excel fixieren|bloccare la prima riga in Excel|congelar a primeira linha no Excel
chop garlic finely|hacher finement de l'ail|picar ajo muy fino|Knoblauch fein hacken|tritare finemente l'aglio|picar alho bem fininho
debone a chicken thigh|désosser une cuisse de poulet|deshuesar un muslo de pollo|eine Hähnchenkeule entbeinen|disossare una coscia di pollo|desossar uma coxa de frango
fillet a salmon|lever les filets d'un saumon|filetear un salmón|einen Lachs filetieren|sfilettare un salmone|filetar um salmão
slice a mango without making a mess|couper une mangue sans en mettre partout|cortar un mango sin mancharlo todo|eine Mango schneiden, ohne zu kleckern|tagliare un mango senza sporcare|cortar uma manga sem fazer sujeira
remove a splinter from my finger|retirer une écharde de mon doigt|sacarme una astilla del dedo|einen Splitter aus meinem Finger entfernen|togliere una scheggia dal dito|tirar uma farpa do meu dedo
get rid of fruit flies in the kitchen|me débarrasser des mouches à fruits dans la cuisine|eliminar las moscas de la fruta de la cocina|Fruchtfliegen in der Küche loswerden|liberarmi dei moscerini in cucina|acabar com as mosquinhas da fruta na cozinha
remove rust from a bike chain|enlever la rouille d'une chaîne de vélo|quitar el óxido de la cadena de la bici|Rost von einer Fahrradkette entfernen|togliere la ruggine dalla catena della bici|tirar a ferrugem da corrente da bicicleta
strip old paint from a wooden door|décaper la vieille peinture d'une porte en bois|quitar la pintura vieja de una puerta de madera|alte Farbe von einer Holztür abbeizen|sverniciare una vecchia porta di legno|remover a tinta velha de uma porta de madeira
knock down a wall between the kitchen and the living room|abattre un mur entre la cuisine et le salon|tirar un tabique entre la cocina y el salón|eine Wand zwischen Küche und Wohnzimmer einreißen|abbattere un muro tra cucina e soggiorno|derrubar uma parede entre a cozinha e a sala
break in new hiking boots|faire à mes pieds de nouvelles chaussures de randonnée|domar unas botas de montaña nuevas|neue Wanderschuhe einlaufen|rodare scarponi da trekking nuovi|amaciar botas de trilha novas
break bad news to my team gently|annoncer une mauvaise nouvelle à mon équipe avec tact|dar una mala noticia a mi equipo con tacto|meinem Team schonend eine schlechte Nachricht überbringen|dare una brutta notizia al mio team con delicatezza|dar uma má notícia para minha equipe com cuidado
nail my presentation at work tomorrow|réussir ma présentation au travail demain|bordar mi presentación en el trabajo mañana|morgen meine Präsentation bei der Arbeit rocken|spaccare alla presentazione di domani al lavoro|arrasar na apresentação de amanhã no trabalho
smash a tennis serve harder|frapper un service de tennis plus fort|sacar más fuerte en tenis|beim Tennis härter aufschlagen|battere un servizio di tennis più forte|sacar mais forte no tênis
shoot free throws more accurately|tirer des lancers francs plus précis|tirar tiros libres con más precisión|Freiwürfe genauer werfen|tirare i tiri liberi con più precisione|arremessar lances livres com mais precisão
attack on the kingside in chess|attaquer à l'aile roi aux échecs|atacar por el flanco de rey en ajedrez|im Schach am Königsflügel angreifen|attaccare sull'ala di re negli scacchi|atacar pela ala do rei no xadrez
catch a trout with a fly rod|attraper une truite à la mouche|pescar una trucha con caña de mosca|eine Forelle mit der Fliegenrute fangen|prendere una trota a mosca|pegar uma truta com vara de fly
defend my thesis in front of the jury|soutenir ma thèse devant le jury|defender mi tesis ante el tribunal|meine Doktorarbeit vor der Kommission verteidigen|difendere la mia tesi davanti alla commissione|defender minha tese diante da banca
fight a parking ticket I think is unfair|contester une amende de stationnement injuste|recurrir una multa de aparcamiento injusta|einen ungerechten Strafzettel anfechten|contestare una multa per divieto di sosta ingiusta|recorrer de uma multa de estacionamento injusta
get a lower price for a used car|obtenir un meilleur prix pour une voiture d'occasion|conseguir un precio más bajo por un coche usado|einen niedrigeren Preis für einen Gebrauchtwagen aushandeln|ottenere un prezzo più basso per un'auto usata|conseguir um preço menor num carro usado
shut down my computer with a keyboard shortcut|éteindre mon ordinateur avec un raccourci clavier|apagar el ordenador con un atajo de teclado|meinen Computer mit einer Tastenkombination herunterfahren|spegnere il computer con una scorciatoia da tastiera|desligar o computador com um atalho de teclado
take down a tent in the rain|démonter une tente sous la pluie|desmontar una tienda de campaña bajo la lluvia|ein Zelt im Regen abbauen|smontare una tenda sotto la pioggia|desmontar uma barraca na chuva
trim a hedge with electric shears|tailler une haie avec un taille-haie électrique|recortar un seto con un cortasetos eléctrico|eine Hecke mit der elektrischen Heckenschere schneiden|potare una siepe con il tagliasiepi elettrico|aparar uma cerca viva com tesoura elétrica
pop a stuck car dent back out|débosseler une portière de voiture|sacar una abolladura del coche|eine Delle aus dem Auto drücken|togliere un'ammaccatura dalla macchina|desamassar a porta do carro
track my running distance with my phone|suivre la distance de mes courses avec mon téléphone|registrar la distancia que corro con el móvil|meine Laufstrecke mit dem Handy aufzeichnen|registrare la distanza delle mie corse con il telefono|registrar a distância das minhas corridas com o celular
target my ads at customers in my town|cibler mes publicités sur les clients de ma ville|dirigir mis anuncios a clientes de mi ciudad|meine Werbung auf Kunden in meiner Stadt ausrichten|indirizzare le mie pubblicità ai clienti della mia città|direcionar meus anúncios para clientes da minha cidade
solve an escape room puzzle faster|résoudre plus vite une énigme d'escape game|resolver más rápido un enigma de escape room|ein Escape-Room-Rätsel schneller lösen|risolvere più in fretta un enigma di una escape room|resolver mais rápido um enigma de escape room
blow-dry my hair without frizz|sécher mes cheveux au sèche-cheveux sans frisottis|secarme el pelo con secador sin encrespado|meine Haare ohne Frizz föhnen|asciugare i capelli con il phon senza crespo|secar o cabelo com secador sem frizz
`);

/**
 * Round 6: what people say to an assistant in the middle of a conversation — ask it to repeat,
 * rephrase, shorten, go on, correct itself — standalone, in the six languages. Why: the round-5
 * model blocked "Could you say that again?" (the chat model's own repeat phrasing) as harassment:
 * no benign row had this shape, and "say that again" occurs in threats. Not in the request frames
 * (these are not "How do I …" requests). The phrasings probed by hand (safety/README.md round 6)
 * are not lines here. Opt-in (`npm run safety:train -- --chat-moves`, with ANSWER_SENTENCES): not in
 * the shipped model (round 6: measured once, not shipped).
 */
export const CHAT_MOVES: Intent[] = parse(`
Could you repeat that, please?|Tu peux répéter, s'il te plaît ?|¿Podrías repetirlo, por favor?|Könntest du das bitte wiederholen?|Potresti ripeterlo, per favore?|Você pode repetir, por favor?
Say it again, I missed it|Redis-le, je n'ai pas suivi|Dilo otra vez, no lo entendí|Sag es noch einmal, ich habe es verpasst|Dillo di nuovo, non ho capito|Diga de novo, eu não entendi
Repeat your previous answer|Répète ta réponse précédente|Repite tu respuesta anterior|Wiederhole deine vorherige Antwort|Ripeti la tua risposta precedente|Repita a sua resposta anterior
What was your last answer again?|Quelle était ta dernière réponse ?|¿Cuál fue tu última respuesta?|Was war noch mal deine letzte Antwort?|Qual era la tua ultima risposta?|Qual foi a sua última resposta?
Sorry, what did you say?|Pardon, qu'est-ce que tu as dit ?|Perdona, ¿qué dijiste?|Entschuldigung, was hast du gesagt?|Scusa, cosa hai detto?|Desculpe, o que você disse?
Can you say that in simpler words?|Tu peux le dire plus simplement ?|¿Puedes decirlo con palabras más sencillas?|Kannst du das einfacher sagen?|Puoi dirlo in parole più semplici?|Pode dizer isso com palavras mais simples?
Explain it again more slowly|Explique-le encore plus lentement|Explícalo otra vez más despacio|Erklär es noch einmal langsamer|Spiegalo di nuovo più lentamente|Explique de novo mais devagar
Make your answer shorter|Fais une réponse plus courte|Haz tu respuesta más corta|Mach deine Antwort kürzer|Rendi la tua risposta più breve|Deixe sua resposta mais curta
Give me a longer answer with more detail|Donne-moi une réponse plus longue et détaillée|Dame una respuesta más larga y detallada|Gib mir eine längere Antwort mit mehr Details|Dammi una risposta più lunga e dettagliata|Me dê uma resposta mais longa e detalhada
Keep going from where you stopped|Continue là où tu t'es arrêté|Sigue desde donde te quedaste|Mach da weiter, wo du aufgehört hast|Continua da dove ti sei fermato|Continue de onde você parou
That's not what I asked, try again|Ce n'est pas ce que j'ai demandé, réessaie|Eso no es lo que pregunté, inténtalo de nuevo|Das habe ich nicht gefragt, versuch es noch mal|Non è quello che ho chiesto, riprova|Não foi isso que eu perguntei, tente de novo
I think you made a mistake in the second step|Je crois que tu t'es trompé à la deuxième étape|Creo que te equivocaste en el segundo paso|Ich glaube, du hast im zweiten Schritt einen Fehler gemacht|Penso che tu abbia sbagliato al secondo passaggio|Acho que você errou no segundo passo
Can you check your answer once more?|Tu peux vérifier ta réponse encore une fois ?|¿Puedes revisar tu respuesta otra vez?|Kannst du deine Antwort noch einmal prüfen?|Puoi controllare di nuovo la tua risposta?|Você pode conferir sua resposta mais uma vez?
Give me an example of that|Donne-moi un exemple|Dame un ejemplo de eso|Gib mir ein Beispiel dafür|Fammi un esempio|Me dê um exemplo disso
What do you mean by that?|Qu'est-ce que tu veux dire par là ?|¿Qué quieres decir con eso?|Was meinst du damit?|Cosa intendi con questo?|O que você quer dizer com isso?
Put that in a bullet list|Mets ça sous forme de liste à puces|Ponlo en una lista con viñetas|Schreib das als Stichpunktliste|Mettilo in un elenco puntato|Coloque isso em uma lista com marcadores
Translate your last answer into English|Traduis ta dernière réponse en anglais|Traduce tu última respuesta al inglés|Übersetze deine letzte Antwort ins Englische|Traduci la tua ultima risposta in inglese|Traduza sua última resposta para o inglês
Summarise what we said so far|Résume ce que nous avons dit jusqu'ici|Resume lo que hemos dicho hasta ahora|Fass zusammen, was wir bisher gesagt haben|Riassumi quello che ci siamo detti finora|Resuma o que dissemos até agora
Forget my last question|Oublie ma dernière question|Olvida mi última pregunta|Vergiss meine letzte Frage|Dimentica la mia ultima domanda|Esqueça minha última pergunta
Start over from the beginning|Recommence depuis le début|Empieza de nuevo desde el principio|Fang noch einmal von vorne an|Ricomincia dall'inizio|Comece de novo desde o início
Let's talk about something else|Parlons d'autre chose|Hablemos de otra cosa|Lass uns über etwas anderes reden|Parliamo d'altro|Vamos falar de outra coisa
Thanks, that helped a lot|Merci, ça m'a beaucoup aidé|Gracias, me ayudó mucho|Danke, das hat mir sehr geholfen|Grazie, mi è stato molto utile|Obrigado, ajudou muito
Hmm, I don't understand your answer|Hmm, je ne comprends pas ta réponse|Mmm, no entiendo tu respuesta|Hm, ich verstehe deine Antwort nicht|Mmm, non capisco la tua risposta|Hum, não entendi sua resposta
Are you sure about that?|Tu es sûr de ça ?|¿Estás seguro de eso?|Bist du dir da sicher?|Sei sicuro?|Você tem certeza disso?
Answer in one sentence|Réponds en une phrase|Responde en una frase|Antworte in einem Satz|Rispondi in una frase|Responda em uma frase
Write it again but more politely|Réécris-le de façon plus polie|Escríbelo otra vez pero más educado|Schreib es noch einmal, aber höflicher|Riscrivilo in modo più gentile|Escreva de novo, mas com mais educação
Read back what I told you earlier|Relis ce que je t'ai dit tout à l'heure|Repíteme lo que te dije antes|Lies mir vor, was ich dir vorhin gesagt habe|Rileggimi quello che ti ho detto prima|Leia de volta o que eu te disse antes
Once more, slowly this time|Encore une fois, lentement cette fois|Una vez más, despacio esta vez|Noch einmal, diesmal langsam|Ancora una volta, lentamente stavolta|Mais uma vez, devagar desta vez
`);

/**
 * Round 6: sentences of harmless answers, for the streaming output filter, which runs the same
 * model on each sentence of an answer: the training rows were requests and questions only, and a
 * round-6 draw stopped the output-filter test's answer ("find its id with ps and then run kill
 * with that id") as dangerous. Each line uses a filter verb in its harmless sense, as an assistant
 * would write it; the first is about killing a process too, worded differently from that test.
 */
export const ANSWER_SENTENCES: Intent[] = parse(`
Look up the PID with pgrep and send it SIGTERM using kill; use kill -9 only if it ignores that|Cherchez le PID avec pgrep et envoyez-lui SIGTERM avec kill ; n'utilisez kill -9 que s'il l'ignore|Busca el PID con pgrep y envíale SIGTERM con kill; usa kill -9 solo si lo ignora|Such die PID mit pgrep und schick ihm mit kill ein SIGTERM; nimm kill -9 nur, wenn er das ignoriert|Cerca il PID con pgrep e inviagli SIGTERM con kill; usa kill -9 solo se lo ignora|Procure o PID com pgrep e envie SIGTERM com kill; use kill -9 só se ele ignorar
If the program hangs, you can terminate it from the task manager|Si le programme se fige, vous pouvez le terminer depuis le gestionnaire des tâches|Si el programa se cuelga, puedes terminarlo desde el administrador de tareas|Wenn das Programm hängt, kannst du es im Task-Manager beenden|Se il programma si blocca, puoi terminarlo dal task manager|Se o programa travar, você pode encerrá-lo pelo gerenciador de tarefas
Cut the onion in half, then slice it thinly with a sharp knife|Coupez l'oignon en deux, puis émincez-le finement avec un couteau bien aiguisé|Corta la cebolla por la mitad y luego córtala en láminas finas con un cuchillo afilado|Schneide die Zwiebel in zwei Hälften und dann mit einem scharfen Messer in dünne Scheiben|Taglia la cipolla a metà, poi affettala sottilmente con un coltello affilato|Corte a cebola ao meio e depois fatie bem fino com uma faca afiada
Shoot the video in daylight and keep the camera steady|Filmez la vidéo à la lumière du jour et gardez la caméra stable|Graba el vídeo con luz de día y mantén la cámara estable|Dreh das Video bei Tageslicht und halte die Kamera ruhig|Gira il video con la luce del giorno e tieni la fotocamera ferma|Grave o vídeo com luz do dia e mantenha a câmera firme
Drop the old table only after you have a backup of the data|Ne supprimez l'ancienne table qu'après avoir sauvegardé les données|Borra la tabla antigua solo después de tener una copia de los datos|Lösche die alte Tabelle erst, wenn du eine Sicherung der Daten hast|Elimina la vecchia tabella solo dopo aver fatto un backup dei dati|Apague a tabela antiga só depois de ter um backup dos dados
To remove the stain, dab it with cold water and a little soap|Pour enlever la tache, tamponnez-la avec de l'eau froide et un peu de savon|Para quitar la mancha, tócala con agua fría y un poco de jabón|Um den Fleck zu entfernen, tupfe ihn mit kaltem Wasser und etwas Seife ab|Per togliere la macchia, tamponala con acqua fredda e un po' di sapone|Para tirar a mancha, passe água fria com um pouco de sabão
Beat the eggs with the sugar until the mixture is pale|Battez les œufs avec le sucre jusqu'à ce que le mélange blanchisse|Bate los huevos con el azúcar hasta que la mezcla esté pálida|Schlage die Eier mit dem Zucker, bis die Masse hell ist|Sbatti le uova con lo zucchero finché il composto è chiaro|Bata os ovos com o açúcar até a mistura ficar clara
Execute the script with bash and check its exit code|Exécutez le script avec bash et vérifiez son code de sortie|Ejecuta el script con bash y comprueba su código de salida|Führe das Skript mit bash aus und prüfe seinen Exit-Code|Esegui lo script con bash e controlla il suo codice di uscita|Execute o script com bash e verifique o código de saída
Burn the files to a disc or copy them to a USB stick|Gravez les fichiers sur un disque ou copiez-les sur une clé USB|Graba los archivos en un disco o cópialos a una memoria USB|Brenne die Dateien auf eine CD oder kopiere sie auf einen USB-Stick|Masterizza i file su un disco o copiali su una chiavetta USB|Grave os arquivos em um disco ou copie para um pendrive
Attack the problem from the other side: start with the tests|Attaquez le problème par l'autre bout : commencez par les tests|Ataca el problema desde el otro lado: empieza por las pruebas|Greif das Problem von der anderen Seite an: fang mit den Tests an|Affronta il problema dall'altro lato: inizia dai test|Ataque o problema pelo outro lado: comece pelos testes
Kill the weeds by pouring boiling water on them|Tuez les mauvaises herbes en versant de l'eau bouillante dessus|Mata las malas hierbas echándoles agua hirviendo|Vernichte das Unkraut, indem du kochendes Wasser darüber gießt|Elimina le erbacce versandoci sopra acqua bollente|Mate as ervas daninhas despejando água fervente sobre elas
Inject the dependency through the constructor so it is easy to test|Injectez la dépendance par le constructeur pour la tester facilement|Inyecta la dependencia por el constructor para que sea fácil de probar|Injiziere die Abhängigkeit über den Konstruktor, damit sie leicht zu testen ist|Inietta la dipendenza tramite il costruttore così è facile da testare|Injete a dependência pelo construtor para facilitar os testes
Destroy the old hard drive with a hammer before you recycle it|Détruisez l'ancien disque dur avec un marteau avant de le recycler|Destruye el disco duro viejo con un martillo antes de reciclarlo|Zerstöre die alte Festplatte mit einem Hammer, bevor du sie recycelst|Distruggi il vecchio disco rigido con un martello prima di riciclarlo|Destrua o HD antigo com um martelo antes de reciclá-lo
Blow up the balloons an hour before the party starts|Gonflez les ballons une heure avant le début de la fête|Infla los globos una hora antes de que empiece la fiesta|Blas die Luftballons eine Stunde vor der Party auf|Gonfia i palloncini un'ora prima dell'inizio della festa|Encha os balões uma hora antes de a festa começar
Then crack the eggs into the pan and stir gently|Cassez ensuite les œufs dans la poêle et remuez doucement|Luego casca los huevos en la sartén y remueve con suavidad|Schlag dann die Eier in die Pfanne und rühre vorsichtig um|Poi rompi le uova nella padella e mescola delicatamente|Depois quebre os ovos na frigideira e mexa devagar
The virus spreads through droplets, so wash your hands often|Le virus se transmet par les gouttelettes, alors lavez-vous souvent les mains|El virus se transmite por gotas, así que lávate las manos a menudo|Das Virus verbreitet sich über Tröpfchen, also wasch dir oft die Hände|Il virus si diffonde con le goccioline, quindi lavati spesso le mani|O vírus se espalha por gotículas, então lave as mãos com frequência
`);
