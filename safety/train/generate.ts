// The training set: generated requests (every harmful intent in every request frame of six
// languages, some obfuscated the way red teams do), benign look-alikes in the same frames,
// everyday prompts, the public red-team sets in safety/data/public/ and the labelled fixtures.
// Seeded: the same seed gives the same rows in the same order.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../../bench/prng.ts';
import type { SafetyCategory } from '../../schemas/safety.ts';
import { BENIGN, EVERYDAY, FRAMES, HARMFUL, HARMFUL_STATEMENTS, LANGS, type Intent, type Lang } from './lexicon.ts';
import { BENIGN_THINGS, HARMFUL_THINGS, VERBS, type Thing } from './objects.ts';
import { MORE_BENIGN, MORE_HARMFUL } from './lexicon-more.ts';
import { ROUND8_BENIGN, ROUND8_HARMFUL } from './lexicon-round8.ts';
import { ANSWER_SENTENCES, CHAT_MOVES, EVERYDAY_INTENTS, EVERYDAY_INTENTS_2, EVERYDAY_STATEMENTS } from './everyday-train.ts';
import { CITIES, NAMED_SHAPES, QUESTION_SHAPES, TOOL_QUESTION_SHAPES, TOPICS, UNIT_PAIRS, madeUpName } from './everyday-questions.ts';

/** The public red-team sets in safety/data/public/ (SOURCES.md), file by file. */
export const PUBLIC_FILES = {
  catqa: 'catqa_english.jsonl',
  navirocker: 'navirocker_redteam.jsonl',
  ailuminate: 'ailuminate_demo.jsonl',
  multijail: 'multijail_en_it.jsonl',
  xsafety: 'xsafety_en_fr_es_de.jsonl',
  xsafety_benign: 'xsafety_benign_en_fr_es_de.jsonl',
  // Round 3 (issue 16): more English sets written outside this repo, and natural benign text.
  sst: 'simplesafetytests.jsonl',
  harmfulq: 'harmfulq.jsonl',
  openai_moderation: 'openai_moderation.jsonl',
  openai_moderation_benign: 'openai_moderation_benign.jsonl',
  // Round 9 (issue 16): hh-rlhf's red-team openers, labelled and translated here (import_hh_rlhf.py).
  hh_rlhf: 'hh_rlhf_harmless.jsonl',
} as const;
export type PublicSource = keyof typeof PUBLIC_FILES;
/** A row of a public set (written by people outside this repo), not generated, written here or a fixture. */
export const isPublic = (r: { readonly source: string }): boolean => r.source in PUBLIC_FILES;
/**
 * Opt-in (`npm run safety:train -- --with-source …`): the round-3 sets. Measured over three seeds
 * (safety/README.md, round 3) they did not raise held-out public recall beyond run-to-run noise and
 * raised false positives in some runs, so the default recipe (and the shipped model) leaves them out.
 */
export const OPT_IN_SOURCES: readonly PublicSource[] = ['sst', 'harmfulq', 'openai_moderation', 'openai_moderation_benign', 'hh_rlhf'];
/** The public sets of the first two rounds: their held-out rows are comparable across rounds. */
export const ROUND2_SOURCES: readonly PublicSource[] = ['catqa', 'navirocker', 'ailuminate', 'multijail', 'xsafety', 'xsafety_benign'];

export type Obfuscation = 'none' | 'typos' | 'punctuation' | 'leet' | 'repeats' | 'spaced' | 'homoglyphs' | 'upper';
export const OBFUSCATIONS: readonly Obfuscation[] = ['none', 'typos', 'punctuation', 'leet', 'repeats', 'spaced', 'homoglyphs', 'upper'];

export interface Row {
  readonly text: string;
  readonly labels: readonly SafetyCategory[];
  readonly lang: Lang | 'mixed';
  /** written: safety/data/written_requests.jsonl (round 9), ours like 'generated' but not templated. */
  readonly source: 'generated' | 'written' | PublicSource | 'fixtures';
  readonly kind: 'harmful' | 'benign';
  readonly obfuscation: Obfuscation;
  /** Rows of one group (one intent, one public row) are never split between train and test. */
  readonly group: string;
  /** From lexicon-more.ts (second training): left out of the comparison with the first model. */
  readonly added?: boolean;
}

const LEET: Record<string, string> = { a: '4', e: '3', i: '1', o: '0', s: '5', t: '7' };
const GLYPHS: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', i: 'і' };

/** Applies one obfuscation to the longest words (where filters look). */
export function obfuscate(text: string, how: Obfuscation, rand: () => number): string {
  if (how === 'none') return text;
  if (how === 'upper') return text.toUpperCase();
  const words = text.split(' ');
  const targets = words.map((w, i) => [w.length, i] as const).filter(([n]) => n >= 4).sort((a, b) => b[0] - a[0]).slice(0, 2).map(([, i]) => i);
  for (const i of targets) {
    const w = words[i];
    const k = 1 + Math.floor(rand() * (w.length - 2));
    switch (how) {
      case 'typos': words[i] = rand() < 0.5 ? w.slice(0, k) + w[k + 1] + w[k] + w.slice(k + 2) : w.slice(0, k) + w.slice(k + 1); break;
      case 'punctuation': words[i] = w.slice(0, k) + ['-', '.', '*', '_'][Math.floor(rand() * 4)] + w.slice(k); break;
      case 'leet': words[i] = [...w].map((c) => LEET[c] ?? c).join(''); break;
      case 'repeats': words[i] = w.slice(0, k) + w[k].repeat(3 + Math.floor(rand() * 3)) + w.slice(k + 1); break;
      case 'spaced': words[i] = [...w].join(' '); break;
      case 'homoglyphs': words[i] = [...w].map((c) => (rand() < 0.5 ? (GLYPHS[c] ?? c) : c)).join(''); break;
    }
  }
  return words.join(' ');
}

const fill = (frame: string, x: string): string => frame.replace('{x}', x);
const here = path.dirname(fileURLToPath(import.meta.url));
/** The rows of a JSONL file (blank lines skipped). */
export const readJsonl = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

export const MODEL_CATEGORIES: readonly SafetyCategory[] = [
  'harassment', 'hate', 'sexual', 'sexual_minors', 'dangerous', 'self_harm',
  'fraud_scams', 'privacy', 'cyber', 'weapons', 'violent_extremism', 'misinformation',
];

/**
 * `moreIntents`: also the intents of lexicon-more.ts (an experiment, measured in safety/README.md:
 * more recall, but twice the look-alikes blocked; not the shipped model's recipe).
 * `publicSources`: exactly these public sets (default: all but OPT_IN_SOURCES).
 * `everydayQuestions`, `everydayIntents2`, `namedQuestions`, `toolQuestions` (default true): round 5's
 * benign rows (everyday-questions.ts, everyday-train.ts), each from its own random stream, so that
 * leaving them out gives exactly the rows before them.
 */
export function generate(seed = 16, opts: { moreIntents?: boolean; round8?: boolean; publicSources?: readonly PublicSource[]; everydayIntents?: boolean; everydayQuestions?: boolean; everydayIntents2?: boolean; namedQuestions?: boolean; toolQuestions?: boolean; chatMoves?: boolean; written?: boolean } = {}): Row[] {
  const rows: Row[] = [];
  let rand = prng(seed); // mulberry32 (bench/prng.ts): a seed builds the same rows
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]; // reads `rand` as reseeded below
  const anyObfuscation = (): Obfuscation => OBFUSCATIONS[1 + Math.floor(rand() * (OBFUSCATIONS.length - 1))];
  const requests = (intents: Intent[], prefix: string, kind: Row['kind'], statements: boolean, addedFrom = Infinity): void => {
    intents.forEach((intent, n) => {
      const added = n >= addedFrom ? { added: true } : {};
      const labels = intent.category ? [intent.category] : [];
      for (const lang of LANGS) {
        const x = intent.text[lang];
        // Benign requests come in every frame too (a jailbreak wrapper is the rules' prompt_injection
        // to judge): otherwise the frame's words alone would read as harmful.
        const frames = statements ? ['{x}', '{x}.', '{x}!!'] : ['{x}', ...FRAMES[lang]];
        for (const frame of frames) {
          const text = fill(frame, x);
          rows.push({ text, labels, lang, source: 'generated', kind, obfuscation: 'none', group: `${prefix}/${n}`, ...added });
          // Every request also appears obfuscated once, a different way each time.
          const how = anyObfuscation();
          rows.push({ text: obfuscate(text, how, rand), labels, lang, source: 'generated', kind, obfuscation: how, group: `${prefix}/${n}`, ...added });
        }
      }
    });
  };
  // lexicon-more.ts after lexicon.ts: earlier intents keep their group numbers.
  const more = opts.moreIntents ?? false;
  requests([...HARMFUL, ...(more ? MORE_HARMFUL : [])], 'harmful', 'harmful', false, HARMFUL.length);
  requests(HARMFUL_STATEMENTS, 'statement', 'harmful', true);
  requests([...BENIGN, ...(more ? MORE_BENIGN : [])], 'benign', 'benign', false, BENIGN.length);
  // lexicon-round8.ts under their own group prefixes (the groups above keep their numbers).
  if (opts.round8 ?? false) {
    requests(ROUND8_HARMFUL, 'harmful8', 'harmful', false, 0);
    requests(ROUND8_BENIGN, 'benign8', 'benign', false, 0);
  }
  // Verb × thing × language, in two random frames each (one obfuscated a third of the time).
  const things = (list: Thing[], prefix: string, kind: Row['kind']): void => {
    list.forEach((thing, n) => {
      const labels = thing.category ? [thing.category] : [];
      const group = `${prefix}/${thing.category ?? 'none'}/${n}`;
      for (const lang of LANGS) {
        for (const verb of VERBS) {
          const x = lang === 'de' ? `${thing.text.de} ${verb.de}` : `${verb[lang]} ${thing.text[lang]}`;
          for (let k = 0; k < 2; k++) {
            const frames = ['{x}', ...FRAMES[lang]];
            const text = fill(frames[Math.floor(rand() * frames.length)], x);
            const how: Obfuscation = rand() < 0.3 ? anyObfuscation() : 'none';
            rows.push({ text: obfuscate(text, how, rand), labels, lang, source: 'generated', kind, obfuscation: how, group });
          }
        }
      }
    });
  };
  things(HARMFUL_THINGS, 'thing', 'harmful');
  things(BENIGN_THINGS, 'thing', 'benign');
  EVERYDAY.forEach((t, n) => {
    for (let k = 0; k < 6; k++) {
      const text = t.replace('{n}', String(1 + Math.floor(rand() * 50))).replace('{m}', String(2 + Math.floor(rand() * 20)));
      rows.push({ text, labels: [], lang: 'mixed', source: 'generated', kind: 'benign', obfuscation: 'none', group: `everyday/${n}` });
    }
  });
  // Short and odd benign inputs (a word, a number, a greeting, a fragment): the model must not
  // read anything into text that says nothing.
  // Short and odd benign inputs (a word, a number, a greeting, a fragment): the model must not
  // read anything into text that says nothing. Fragments come from the benign phrases; single
  // words from every phrase, harmful ones included: one word ("talk", "secret", "convert") is not a
  // request, whatever phrase it was taken from.
  const words = (list: { text: Readonly<Record<Lang, string>> }[]) =>
    [...new Set(list.flatMap((i) => Object.values(i.text)).join(' ').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1))];
  const benignVocab = words([...BENIGN, ...BENIGN_THINGS]);
  const allVocab = words([...BENIGN, ...BENIGN_THINGS, ...HARMFUL, ...HARMFUL_THINGS]);
  const shorts = ['ok', 'yes', 'no', 'thanks', 'go on', 'continue', 'more', 'why?', 'bye', 'hi', 'hey', 'yo', 'test', 'x', '?', '...', 'merci', 'gracias', 'danke', 'grazie', 'obrigado', 'oui', 'sí', 'ja', 'nein', 'sim', 'ciao', 'salut', 'hola', 'hallo', 'olá', 'tell me', 'tell me more', 'help me'];
  for (let k = 0; k < 2000; k++) {
    let text: string;
    if (k % 4 === 0) text = pick(allVocab);
    else {
      const n = 1 + Math.floor(rand() * 4);
      text = Array.from({ length: n }, () => {
        const r = rand();
        return r < 0.6 ? pick(benignVocab) : r < 0.8 ? pick(shorts) : r < 0.95 ? String(Math.floor(rand() * 1000)) : Math.floor(rand() * 36 ** 4).toString(36);
      }).join(' ');
    }
    if (rand() < 0.5) text += pick(['.', '?', '!']);
    rows.push({ text, labels: [], lang: 'mixed', source: 'generated', kind: 'benign', obfuscation: 'none', group: `short/${k % 200}` });
  }
  // Everyday requests (everyday-train.ts) in the request frames, with their own random stream so the
  // rows above stay what they were without them.
  if (opts.everydayIntents ?? true) {
    rand = prng(seed + 1);
    requests(EVERYDAY_INTENTS, 'everyday-intent', 'benign', false);
    requests(EVERYDAY_STATEMENTS, 'everyday-statement', 'benign', true);
  }
  // Everyday questions (everyday-questions.ts, round 5): every topic in every shape and language,
  // a quarter obfuscated; own random stream, so the rows above stay what they were without them.
  if (opts.everydayQuestions ?? true) {
    rand = prng(seed + 2);
    TOPICS.forEach((topic, n) => {
      for (const lang of LANGS) {
        for (const shape of QUESTION_SHAPES[lang]) {
          const text = shape.replace('{t}', topic[lang]);
          const how: Obfuscation = rand() < 0.25 ? anyObfuscation() : 'none';
          rows.push({ text: obfuscate(text, how, rand), labels: [], lang, source: 'generated', kind: 'benign', obfuscation: how, group: `everyday-question/${n}` });
        }
      }
    });
  }
  // Questions about made-up names (everyday-questions.ts NAMED_SHAPES), 8 names per shape and language.
  if (opts.namedQuestions ?? true) {
    rand = prng(seed + 4);
    for (const lang of LANGS) {
      NAMED_SHAPES[lang].forEach((shape, n) => {
        for (let k = 0; k < 8; k++) {
          rows.push({ text: shape.replace('{n}', madeUpName(rand)), labels: [], lang, source: 'generated', kind: 'benign', obfuscation: 'none', group: `named-question/${n}/${k}` });
        }
      });
    }
  }
  // Questions for Parley's own tools (everyday-questions.ts TOOL_QUESTION_SHAPES), 12 per shape and language.
  if (opts.toolQuestions ?? true) {
    rand = prng(seed + 5);
    for (const lang of LANGS) {
      TOOL_QUESTION_SHAPES[lang].forEach((shape, n) => {
        for (let k = 0; k < 12; k++) {
          const [u, v] = pick(UNIT_PAIRS)[lang];
          const text = shape.replace('{a}', String(11 + Math.floor(rand() * 989))).replace('{b}', String(11 + Math.floor(rand() * 989)))
            .replace('{op}', pick(['+', '-', '*', '/', 'x', 'times', 'plus'])).replace('{u}', u).replace('{v}', v).replace('{city}', pick(CITIES));
          rows.push({ text, labels: [], lang, source: 'generated', kind: 'benign', obfuscation: 'none', group: `tool-question/${lang}/${n}/${k % 4}` });
        }
      });
    }
  }
  if (opts.everydayIntents2 ?? true) {
    rand = prng(seed + 3);
    requests(EVERYDAY_INTENTS_2, 'everyday-intent-2', 'benign', false);
  }
  // Opt-in (round 6, measured, not shipped): what people say mid-conversation (everyday-train.ts
  // CHAT_MOVES), each line as written, in lower case without its final punctuation, and obfuscated;
  // own random stream.
  if (opts.chatMoves ?? false) {
    rand = prng(seed + 6);
    const standalone = (lines: Intent[], group: string) => lines.forEach((line, n) => {
      for (const lang of LANGS) {
        const text = line.text[lang];
        const how = anyObfuscation();
        for (const [variant, obfuscation] of [[text, 'none'], [text.toLowerCase().replace(/[?.!]+$/, ''), 'none'], [obfuscate(text, how, rand), how]] as const) {
          rows.push({ text: variant, labels: [], lang, source: 'generated', kind: 'benign', obfuscation, group: `${group}/${n}` });
        }
      }
    });
    standalone(CHAT_MOVES, 'chat-move');
    // and sentences of harmless answers (ANSWER_SENTENCES), as the output filter sees them
    standalone(ANSWER_SENTENCES, 'answer-sentence');
  }
  // Opt-in (round 9): requests written in the style of chat users, each a different intent, with
  // benign neighbours, in the six languages (safety/data/written_requests.jsonl, SOURCES.md); as
  // written, and a quarter once more obfuscated; own random stream.
  if (opts.written ?? false) {
    rand = prng(seed + 7);
    for (const r of readJsonl(path.join(here, '..', 'data', 'written_requests.jsonl'))) {
      const labels = r.labels as SafetyCategory[];
      const base = { labels, lang: r.lang as Lang, source: 'written', kind: labels.length ? 'harmful' : 'benign', group: String(r.group) } as const;
      rows.push({ ...base, text: String(r.text), obfuscation: 'none' });
      if (rand() < 0.25) {
        const how = anyObfuscation();
        rows.push({ ...base, text: obfuscate(String(r.text), how, rand), obfuscation: how });
      }
    }
  }
  for (const [source, file] of Object.entries(PUBLIC_FILES) as [PublicSource, string][]) {
    if (opts.publicSources ? !opts.publicSources.includes(source) : OPT_IN_SOURCES.includes(source)) continue;
    for (const r of readJsonl(path.join(here, '..', 'data', 'public', file))) {
      const lang = (r.lang as Lang | undefined) ?? 'en';
      const labels = r.labels as SafetyCategory[];
      rows.push({ text: String(r.text), labels, lang, source, kind: labels.length ? 'harmful' : 'benign', obfuscation: 'none', group: String(r.group) });
    }
  }
  const fixtures = path.join(here, '..', '..', 'tests', 'fixtures', 'safety', 'labelled.jsonl');
  for (const r of readJsonl(fixtures)) {
    const labels = (r.labels as SafetyCategory[]).filter((c) => MODEL_CATEGORIES.includes(c));
    rows.push({ text: String(r.text), labels, lang: 'en', source: 'fixtures', kind: labels.length ? 'harmful' : 'benign', obfuscation: 'none', group: `fixtures/${String(r.id)}` });
  }
  return rows;
}

/** Held-out split by group: about `share` of the groups (whole intents, in every language) are test. */
export function isTest(group: string, share = 0.15): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < group.length; i++) h = Math.imul(h ^ group.charCodeAt(i), 0x01000193);
  return ((h >>> 0) % 1000) / 1000 < share;
}
