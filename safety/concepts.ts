// A shared multilingual lexicon for the moderation model's features: one concept ("kill", "bomb",
// "steal", "secretly" …) and its word stems in the six languages, so that what the model learns from
// a request in one language carries to the same words in another, and to other requests that use
// them. Character n-grams already carry cognates (bomb/bombe/bomba); these carry the words that do
// not look alike (kill/tuer/matar/töten/uccidere). Written from general vocabulary of harm and of
// its benign neighbours (defence, history, fiction, medicine), not from any evaluation row.
// Stems are matched against normalized words (lower case, no diacritics): a word that starts with a
// stem matches; stems of 5+ letters also match inside a word (German compounds: "Rohrbombe").

const TABLE = `
kill|kill,murder,assassin,slaughter,massacre|tuer,assassin,meurtr,massacr|matar,asesin,masacr|toten,totet,ermord,mord,umbring,massaker|uccid,ammazz,assassin,omicid,massacr|matar,assassin,massacr
harm|hurt,harm,injur,maim,torture|bless,torture,mutil|heri,lastim,tortur,mutil|verletz,foltern,verstummel|ferir,torturar,mutil|feri,machuc,tortur,mutil
attack|attack,assault,ambush,shoot,stab|attaqu,agress,tirer,poignard|atac,agred,dispar,apunal|angriff,angreif,uberfall,erschies,erstech|attacc,aggred,sparar,accoltell|ataca,ataque,agred,atirar,esfaque
bomb|bomb,explosiv,detonat,grenade,ied,tatp,dynamite|bomb,explosi,deton,grenade,dynamit|bomb,explosiv,deton,granada,dinamit|bomb,spreng,explosiv,granate,dynamit,zunder|bomb,esplosiv,deton,granata,dinamit|bomb,explosiv,deton,granada,dinamit
poison|poison,toxin,cyanide,ricin,arsenic,lethal,overdose|poison,empoison,toxine,cyanure,ricine,arsenic,letal,surdose|venen,envenen,toxin,cianuro,ricina,arsenico,letal,sobredosis|giftig,giftgas,vergift,toxin,zyankali,cyanid,rizin,arsen,todlich,uberdosis|velen,avvelen,tossin,cianuro,ricina,arsenico,letale,overdose|venen,envenen,toxin,cianeto,ricina,arsenico,letal,overdose
cbrn|sarin,nerve agent,anthrax,smallpox,pathogen,bioweapon,uranium,plutonium,radioactiv,dirty bomb,chemical weapon,nerve gas,mustard gas,vx|sarin,anthrax,variole,pathogene,uranium,plutonium,radioacti,arme chimique|sarin,antrax,viruela,patogen,uranio,plutonio,radiactiv,arma quimica|sarin,milzbrand,pocken,erreger,uran,plutonium,radioaktiv,chemiewaffe,biowaffe,nervengas,senfgas|sarin,antrace,vaiolo,patogen,uranio,plutonio,radioattiv,arma chimica|sarin,antraz,variola,patogen,uranio,plutonio,radioativ,arma quimica
drugs|meth,methamphetamin,heroin,cocaine,fentanyl,crack,narcotic,drug|drogue,methamphetamin,heroin,cocain,fentanyl,stupefi|droga,metanfetamin,heroin,cocain,fentanil,narcotic|droge,methamphetamin,heroin,kokain,fentanyl,rauschgift,crystal|droga,metanfetamin,eroina,cocain,fentanil,stupefacent|droga,metanfetamin,heroina,cocain,fentanil,entorpecent
synthesize|synthes,manufactur,extract,weaponiz|synthetis,fabriqu,extrai|sintetiz,fabric,extrae|synthetis,herstell,extrahier|sintetizz,fabbric,estrarr|sintetiz,fabric,extrair
weapon|gun,firearm,pistol,rifle,handgun,shotgun,ammunition,ammo,weapon,ar-15,ak-47,glock|arme,pistolet,fusil,munition,revolver|arma,pistola,rifle,fusil,escopeta,municion|waffe,pistole,gewehr,schusswaff,munition,revolver|arma,pistola,fucile,munizion,rivoltell|arma,pistola,fuzil,espingarda,municao,revolver
untraceable|untraceabl,ghost gun,serial number,full auto,automatic,silencer,suppressor,background check,without a licen,unregistered|intracabl,numero de serie,automatique,silencieux,sans permis,non declar|irrastreabl,imposible de rastrear,numero de serie,automatic,silenciador,sin licencia,sin permiso|nicht ruckverfolg,seriennummer,vollautomat,schalldampfer,ohne waffenschein,ohne lizenz,illegal|non tracciabil,numero di serie,automatic,silenziator,senza licenza,senza porto|impossivel de rastrear,numero de serie,automatic,silenciador,sem licenca,sem porte
steal|steal,stole,theft,robb,loot,shoplift,burglar,break into|voler,cambriol,derob,piller|robar,hurtar,asalt,saque|stehl,klau,diebstahl,raub,einbrech,pluender|rubar,furto,rapin,svaligi,sacchegg|roubar,furt,assalt,saque
fraud|scam,fraud,swindl,counterfeit,forg,launder,phishing,ponzi,fake invoice,pyramid scheme,cheat|arnaqu,escroqu,fraud,contrefa,falsifi,blanchi,phishing,hameconn,tromp|estaf,fraud,timo,falsific,lavar dinero,blanque,phishing,engan|betrug,betrueg,abzock,falschgeld,falsch,faelsch,geldwasch,phishing|truff,frod,raggir,contraff,falsific,riciclag,phishing,ingann|golpe,fraud,engan,falsific,lavar dinheiro,lavagem,phishing,trapac
money|money,savings,bank account,credit card,cash,bitcoin,crypto,tax|argent,econom,compte bancaire,carte bancaire,carte de credit,impot|dinero,ahorro,cuenta bancaria,tarjeta de credito,impuesto|geld,erspart,bankkonto,kreditkart,steuer|denaro,soldi,risparm,conto bancario,carta di credito,tasse|dinheiro,poupanc,conta bancaria,cartao de credito,imposto
identity|identity,social security,passport,password,login,credentials,personal data,id card|identite,securite sociale,passeport,mot de passe,identifiant,donnees personnel|identidad,seguridad social,pasaporte,contrasena,credencial,datos personal|identitat,sozialversicherung,reisepass,passwort,zugangsdat,personlich|identita,codice fiscale,passaporto,password,credenzial,dati personal|identidade,cpf,passaporte,senha,credenciai,dados pessoa
hack|hack,crack,breach,exploit,intrud,bypass,brute force,sql injection,zero-day,backdoor,rootkit|pirat,hack,craquer,intrusion,contourn,faille,porte derobee|hack,piratear,vulner,intrus,eludir,burlar,puerta trasera|hack,knack,eindring,umgeh,sicherheitslucke,hintertur|hacker,bucare,violare,intrus,aggirar,falla,backdoor|hack,invadir,invasao,burlar,contornar,brecha,backdoor
malware|malware,ransomware,virus,trojan,keylogger,spyware,botnet,worm,ddos,cryptominer|logiciel malveillant,rancongiciel,virus,cheval de troie,enregistreur de frappe,logiciel espion,botnet,ddos|malware,ransomware,virus,troyano,keylogger,programa espia,botnet,ddos|schadsoftware,ransomware,virus,trojaner,keylogger,spionage,botnet,ddos|malware,ransomware,virus,trojan,keylogger,spyware,botnet,ddos|malware,ransomware,virus,trojan,keylogger,spyware,botnet,ddos
account|account,email,instagram,facebook,whatsapp,phone,server,network,wifi,database,website|compte,courriel,mail,telephone,serveur,reseau,base de donnees,site|cuenta,correo,telefono,movil,servidor,base de datos,sitio|konto,e-mail,handy,telefon,server,netzwerk,datenbank,webseite,website|account,email,telefono,cellulare,server,rete,database,sito|conta,e-mail,celular,telefone,servidor,rede,banco de dados,site
secret|secretly,covert,without him knowing,without her knowing,without them knowing,without consent,without permission,undetect,hidden,spy,get away with,not get caught,untrac|secret,a son insu,sans son consentement,sans autorisation,indetect,cach,espionn,sans me faire prendre,sans etre puni|secret,a escondidas,sin que lo sepa,sin su consentimiento,sin permiso,indetectabl,ocult,espiar,sin que me atrapen|heimlich,ohne sein wissen,ohne ihr wissen,ohne zustimmung,unbemerkt,versteck,ausspion,ohne erwischt,davonkomm|segret,di nascosto,a sua insaputa,senza consenso,senza permesso,non rilevabil,nascost,spiare,farla franca,senza farmi scoprire|secret,escondid,sem ele saber,sem ela saber,sem consentimento,sem permissao,indetectavel,ocult,espiar,sem ser pego,impune
track|track,stalk,locate,surveil,gps,dox,home address,where he lives,where she lives|traquer,localis,harcel,surveill,gps,adresse|rastre,acech,localiz,vigil,gps,direccion|orten,verfolg,stalk,uberwach,uberwacht,gps,adresse,wohnort|rintracc,pedin,localizz,sorvegli,gps,indirizzo|rastrear,persegu,localiz,vigi,gps,endereco
harass|harass,bully,threaten,intimidat,humiliat,blackmail,insult,troll,cyberbull|harcel,menac,intimid,humili,chantage,insult,injur|acos,amenaz,intimid,humill,chantaj,insult|belastig,mobb,bedroh,einschucht,demutig,erpress,beleidig|molest,bullizz,minacc,intimid,umili,ricatt,insult|assedi,intimid,ameac,humilh,chantag,insult,ofend
hate|hate,inferior,subhuman,vermin,racist,slur,exterminat,ethnic cleansing,deport all,genocid|haine,inferieur,sous-homme,vermine,racis,extermin,genocid|odi,inferior,infrahuman,aliman,racis,extermin,genocid|hass,minderwert,untermensch,ungeziefer,rassis,ausrott,vernicht,volkermord|odi,inferior,subuman,parassit,razzis,stermin,genocid|odi,inferior,sub-human,verme,racis,extermin,genocid
group|immigrant,jew,muslim,black people,gay,transgender,women,minorit,refugee,gypsy,roma|immigr,juif,musulman,noirs,homosexu,transgender,femmes,minorit,refugi|inmigrant,judio,musulman,negros,gay,homosexual,transgender,mujeres,minori,refugiad|einwander,migrant,jude,juden,muslim,schwarze,schwule,homosexu,transgender,frauen,minderheit,fluchtling|immigrat,ebre,musulman,neri,gay,omosessual,transgender,donne,minoranz,rifugiat|imigrant,judeu,muculman,negros,gay,homossexu,transgender,mulheres,minori,refugiad
extremism|terror,jihad,isis,extremis,radicaliz,recruit,manifesto,martyr,propaganda,militia,insurrect,overthrow,nazi,white power|terror,djihad,jihad,extremis,radicalis,recrut,manifeste,martyr,propagand,milice,insurrect,renvers,nazi|terror,yihad,jihad,extremis,radicaliz,reclut,manifiesto,martir,propagand,milicia,insurrec,derroc,nazi|terror,dschihad,jihad,extremis,radikalis,rekrut,manifest,martyr,propagand,miliz,aufstand,umsturz,nazi|terror,jihad,estremis,radicalizz,reclut,manifesto,martir,propagand,milizia,insurrez,rovesci,nazi|terror,jihad,extremis,radicaliz,recrut,manifesto,martir,propagand,milicia,insurreic,derrub,nazi
sexual|sex,porn,nude,naked,explicit,erotic,orgasm,genital,rape,molest|sex,porno,nu ,nue,nudes,explicit,erotiq,viol ,violer|sex,porno,desnud,explicit,erotic,violar,violacion|sex,porno,nackt,explizit,erotisch,vergewaltig|sessual,porno,nud,esplicit,erotic,stupr,violentar|sex,porno,nu ,nua,nudes,explicit,erotic,estupr,violentar
minor|child,kid,minor,underage,teen,boy,girl,schoolgirl,preteen,toddler,12 year,13 year,14 year,loli|enfant,mineur,gamin,ado,fillette,garcon,ecolier,collegien|nino,nina,menor,adolescent,escolar|kinder,kindes,minderjahrig,jugendlich,madchen,junge,schuler|bambin,minorenn,ragazzin,adolescent,scolar|crianca,menor,adolescent,menin,garot,estudant
selfharm|suicid,kill myself,end my life,self-harm,cut myself,overdose,hang myself,starve myself|suicid,me tuer,en finir,mettre fin a mes jours,scarifi,me couper,mourir|suicid,matarme,quitarme la vida,autolesion,cortarme,morir|suizid,selbstmord,mich umbringen,mich toten,ritzen,sterben|suicid,uccidermi,togliermi la vita,autolesion,tagliarmi,morire|suicid,me matar,tirar minha vida,automutil,me cortar,morrer
misinfo|fake news,disinformation,hoax,conspiracy,vaccines cause,rigged,stolen election,propaganda,false claim,deepfake|fausse nouvelle,desinformation,canular,complot,truque,vol electoral,deepfake|noticias falsas,desinformacion,bulo,conspiracion,amanado,fraude electoral,deepfake|falschnachricht,fake news,desinformation,verschwor,manipuliert,wahlbetrug,deepfake|notizie false,disinformazion,bufala,complott,truccat,brogli,deepfake|noticias falsas,desinformacao,boato,conspiracao,fraudad,fraude eleitoral,deepfake
kidnap|kidnap,abduct,hostage,ransom,traffick,smuggl|enlev,kidnapp,otage,rancon,trafic,passeur|secuestr,rapt,rehen,rescate,trafic,contraband|entfuhr,geisel,losegeld,menschenhandel,schmuggel,schleus|rapir,rapiment,ostagg,riscatt,traffic,contrabband|sequestr,rapt,refem,resgate,trafic,contraband
evade|evade,escape police,hide a body,destroy evidence,alibi,cover up,dispose|echapper a la police,cacher un corps,detruire les preuves,alibi,dissimul|evadir,escapar de la policia,esconder un cadaver,destruir pruebas,coartada,encubrir|der polizei entkommen,leiche versteck,beweise vernicht,alibi,vertusch|sfuggire alla polizia,nascondere un cadavere,distruggere le prove,alibi,insabbi|fugir da policia,esconder um corpo,destruir provas,alibi,encobrir
howto|how to,how do i,how can i,step by step,instructions,tutorial,recipe,guide,exact amount,teach me|comment,etape par etape,instructions,tutoriel,recette,guide,quantite exacte,apprends-moi|como,paso a paso,instrucciones,tutorial,receta,guia,cantidad exacta,ensename|wie kann,wie mache,schritt fur schritt,anleitung,rezept,genaue menge,bring mir|come,passo dopo passo,istruzioni,tutorial,ricetta,guida,quantita esatta,insegnami|como,passo a passo,instrucoes,tutorial,receita,guia,quantidade exata,me ensine
people|people,crowd,neighbor,wife,husband,boss,ex ,classmate,coworker,teacher,police,school,subway,stadium|gens,foule,voisin,femme,patron,ex ,camarade,collegue,professeur,police,ecole,metro,stade|gente,multitud,vecino,esposa,marido,jefe,ex ,companero,profesor,policia,escuela,metro,estadio|leute,menschen,menge,nachbar,frau,mann,chef,ex ,mitschuler,kolleg,lehrer,polizei,schule,u-bahn,stadion|gente,folla,vicin,moglie,marito,capo,ex ,compagn,collega,insegnant,polizia,scuola,metro,stadio|gente,pessoas,multidao,vizinh,esposa,marido,chefe,ex ,colega,professor,policia,escola,metro,estadio
defend|protect,defend,prevent,detect,secure,safety,recogni,report,avoid,warning sign,spot|proteg,defend,preven,detect,securis,securite,reconnaitre,signaler,eviter|proteg,defend,preven,detect,seguridad,reconocer,denunciar,evitar|schutz,schutzen,verteidig,verhind,erkenn,sicher,melden,vermeid|protegg,difend,preven,rilev,sicurezz,riconosc,segnal,evitar|proteg,defend,preven,detect,seguranc,reconhec,denunciar,evitar
history|history,histor,ww2,world war,century,ancient,museum,documentary|histoir,guerre,siecle,antiq,musee,documentaire|histori,guerra,siglo,antigu,museo,documental|geschicht,histor,krieg,jahrhundert,antik,museum,dokumentar|stori,guerra,secolo,antic,museo,documentar|histori,guerra,seculo,antig,museu,documentar
fiction|story,novel,fiction,character,movie,film,game,play ,poem,scene|histoire,roman,fiction,personnage,film,jeu,poeme,scene|cuento,novela,ficcion,personaje,pelicula,juego,poema,escena|geschichte,roman,fiktion,figur,film,spiel,gedicht,szene|racconto,romanzo,finzione,personaggio,film,gioco,poesia,scena|conto,romance,ficcao,personagem,filme,jogo,poema,cena
medical|doctor,medic,health,symptom,treatment,dose,pharmac,hospital,nurse,therap|medecin,medic,sante,symptom,traitement,dose,pharmac,hopital,infirmi,therap|medic,salud,sintoma,tratamiento,dosis,farmac,hospital,enfermer,terap|arzt,medizin,gesundheit,symptom,behandlung,dosis,apothek,krankenhaus,pfleg,therap|medic,salute,sintom,trattament,dose,farmac,ospedal,infermi,terap|medic,saude,sintoma,tratamento,dose,farmac,hospital,enfermei,terap
computing|process,terminal,linux,python,code,program,script,server,docker,kubernetes,database,debug|processus,terminal,code,programme,script,serveur,base de donnees,debogu|proceso,terminal,codigo,programa,script,servidor,base de datos,depur|prozess,terminal,code,programm,skript,server,datenbank,debug|processo,terminale,codice,programma,script,server,database,debug|processo,terminal,codigo,programa,script,servidor,banco de dados,depur
`;

const LANG_COLUMNS = 6;

/** Stem → concepts; stems with a space or hyphen are phrases, matched on the joined text. */
function build(): { words: Map<string, string[]>; phrases: [string, string][] } {
  const words = new Map<string, string[]>();
  const phrases: [string, string][] = [];
  for (const line of TABLE.trim().split('\n')) {
    const [concept, ...langs] = line.split('|');
    if (langs.length !== LANG_COLUMNS) throw new Error(`concepts.ts: ${concept} has ${langs.length} language columns`);
    for (const stem of langs.join(',').split(',').map((s) => s.trim()).filter(Boolean)) {
      if (/[ -]/.test(stem)) phrases.push([stem, concept]);
      else if (stem.length >= 3) words.set(stem, [...(words.get(stem) ?? []), concept]);
    }
  }
  return { words, phrases };
}

const LEXICON = build();
const MAX_STEM = Math.max(...[...LEXICON.words.keys()].map((s) => s.length));

/** Concepts named by one normalized word: a stem at its start, or (5+ letters) anywhere inside it. */
export function conceptsOfWord(word: string): string[] {
  const found = new Set<string>();
  for (let start = 0; start < word.length; start++) {
    for (let len = 3; len <= MAX_STEM && start + len <= word.length; len++) {
      if (start > 0 && len < 5) continue;
      const hit = LEXICON.words.get(word.slice(start, start + len));
      if (hit) for (const c of hit) found.add(c);
    }
  }
  return [...found];
}

/** Concepts named by multi-word phrases in a normalized text (" how to ", "serial number"). */
export function conceptsOfPhrases(text: string): string[] {
  const padded = ` ${text} `;
  const found = new Set<string>();
  for (const [phrase, concept] of LEXICON.phrases) if (padded.includes(` ${phrase}`)) found.add(concept);
  return [...found];
}
