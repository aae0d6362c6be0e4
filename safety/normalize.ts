// Stage 1 of the cascade: fold text into the form the rules are written against.
//
// Output is lowercase, diacritic-free, with homoglyphs and in-word leetspeak folded to Latin
// letters, zero-width/control characters removed, every run of non-word characters collapsed to
// one space, and spaced-out letters (`s u i c i d e`, `k.i.l.l`) joined. Because some foldings are
// ambiguous (`1` is `i` in `su1c1de` but `l` in `ki11`; `kiiiill` vs `killlll`) normalize returns
// one or more variants: the rules are matched against each and the hits unioned. Ordinary text
// yields exactly one variant, so the common case costs one pass.

// Zero-width, bidi and other invisible format characters that are removed outright.
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\u{E0000}-\u{E007F}]/gu;
// Control characters: line breaks and tabs become spaces, the rest go.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const COMBINING = /\p{M}+/gu;
const ASCII_ONLY = /^[\x00-\x7f]*$/;

// Look-alike characters from other scripts (after NFKC, which already folds fullwidth forms,
// mathematical alphanumerics, circled letters and ligatures).
const HOMOGLYPHS: Record<string, string> = {
  // Cyrillic
  а: 'a', б: 'b', в: 'b', г: 'r', д: 'd', е: 'e', ё: 'e', ж: 'x', з: '3', и: 'u', й: 'u', к: 'k', л: 'n', м: 'm',
  н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', ф: 'f', х: 'x', ц: 'u', ч: '4', ш: 'w', щ: 'w',
  ъ: 'b', ы: 'bi', ь: 'b', э: 'e', ю: 'io', я: 'r', і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w',
  ѵ: 'v', ү: 'y', һ: 'h', ӏ: 'l', ɡ: 'g', є: 'e', ґ: 'r',
  // Greek
  α: 'a', β: 'b', γ: 'y', δ: 'd', ε: 'e', ζ: 'z', η: 'n', θ: 'o', ι: 'i', κ: 'k', λ: 'l', μ: 'u', ν: 'v',
  ξ: 'e', ο: 'o', π: 'n', ρ: 'p', σ: 'o', ς: 's', τ: 't', υ: 'u', φ: 'f', χ: 'x', ψ: 'y', ω: 'w',
  // Latin extensions and IPA look-alikes that NFKC leaves alone
  ı: 'i', ȷ: 'j', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ŧ: 't', ß: 'ss', æ: 'ae', œ: 'oe', þ: 'p', ð: 'd',
  ɑ: 'a', ɩ: 'i', ɪ: 'i', ʏ: 'y', ɴ: 'n', ʀ: 'r', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ɢ: 'g', ʜ: 'h', ᴊ: 'j',
  ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ᴏ: 'o', ᴘ: 'p', ꞯ: 'q', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ᴢ: 'z',
  '€': 'e', '£': 'l', '¥': 'y', '¢': 'c',
};

// Leetspeak folded only inside a word that also has letters (so `2024`, `$100` and `3.14` stay).
const LEET_DIGIT: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '9': 'g' };
// Symbols folded only when followed by a word character (`$hoot`, `@ss`, `k!ll`), never at a
// word's end (`kill!` stays `kill`).
const LEET_SYMBOL: Record<string, string> = { '@': 'a', $: 's', '!': 'i', '|': 'l', '+': 't' };

export interface NormalizedText {
  /** The primary folding: what a reader would see. */
  readonly text: string;
  /** Every folding to match against; `variants[0] === text`. */
  readonly variants: readonly string[];
  /**
   * Parallel to `variants`: for a snippet, the span of the word read differently. Matches in a
   * snippet count only if they overlap it (the rest of the snippet is judged in `text`, where
   * nothing is cut off). Absent or null: the whole variant counts.
   */
  readonly focus?: readonly (readonly [number, number] | null)[];
}

const HAS_LETTER = /\p{L}/u;
const PLAIN_WORD = /^[a-z]+$/;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Character-level folding: NFKC, invisible/control removal, diacritics, homoglyphs, lowercase. */
export function foldCharacters(input: string): string {
  let s = input
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(/\u2029/g, ' ')
    .replace(SENTENCE_END, ' \u2029 ')
    .replace(/[\t\n\r]/g, ' ')
    .replace(CONTROL, '');
  s = s.toLowerCase();
  if (ASCII_ONLY.test(s)) return s; // nothing to decompose or fold
  s = s.normalize('NFD').replace(COMBINING, '');
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (code < 128) out += ch;
    else out += HOMOGLYPHS[ch] ?? ch;
  }
  return out;
}

// A raw token: letters, digits and the leet symbols. Anything else (space, punctuation) separates.
const TOKEN = /[\p{L}\p{N}@$!|+]+|\u2029/gu;

/**
 * Sentence ends (`.`, `!`, `?` before whitespace; line breaks) become the word `|` in normalized
 * text. Terms never contain it and rule wildcards do not cross it (see rules.ts), so a pattern
 * cannot pair a word in one sentence with a word in the next.
 */
const SENTENCE_END = /[.!?。！？]+(?=\s)|[。！？]|\r?\n/g;
export const SENTENCE_BREAK = '|';
const BREAK_CHAR = '\u2029';
const TRAILING_SYMBOLS = /[@$!|+]+$/;

function foldLeet(token: string, alt: boolean): { folded: string; ambiguous: boolean } {
  if (PLAIN_WORD.test(token)) return { folded: token, ambiguous: false };
  const hasLetter = HAS_LETTER.test(token);
  let out = '';
  let ambiguous = false;
  const chars = Array.from(token);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const digit = LEET_DIGIT[ch];
    if (digit !== undefined) {
      if (!hasLetter) out += ch;
      else if (ch === '1') { ambiguous = true; out += alt ? 'l' : 'i'; }
      else out += digit;
      continue;
    }
    const sym = LEET_SYMBOL[ch];
    if (sym !== undefined) {
      const next = chars[i + 1];
      // A symbol is a letter only before another word character; elsewhere it is punctuation.
      if (hasLetter && next !== undefined && WORD_CHAR.test(next)) {
        if (ch === '|') { ambiguous = true; out += alt ? 'i' : 'l'; }
        else out += sym;
      }
      continue;
    }
    out += ch;
  }
  return { folded: out, ambiguous };
}

/**
 * Split into tokens and join spaced-out single letters: a run of >= 3 one-character tokens with
 * at least 2 letters, each separated by a single separator character (`s u i c i d e`, `k.i.l.l`).
 * A wider gap ends the run, so `h o w  t o` yields `how to`.
 */
function tokenize(folded: string): { tokens: string[]; alts: Map<number, string> } {
  const text = folded.replace(/['’`´]/g, '');
  const raw: { t: string; start: number; end: number }[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    // A symbol at a word's end is punctuation (`kill!`), not leetspeak.
    const t = m[0].length > 1 ? m[0].replace(TRAILING_SYMBOLS, '') : m[0];
    if (t) raw.push({ t, start: m.index, end: m.index + t.length });
  }
  const single = (t: string): boolean =>
    (t.length === 1 && t !== BREAK_CHAR) || (t.length === 2 && t.codePointAt(0)! > 0xffff);
  const tokens: string[] = [];
  const alts = new Map<number, string>();
  let i = 0;
  while (i < raw.length) {
    if (single(raw[i].t)) {
      // Extend while the next token is single too and the separator is one character, the same
      // character throughout the run (`a b-o-m-b` is `a` + `bomb`).
      let j = i + 1;
      let sep = '';
      let letters = HAS_LETTER.test(raw[i].t) ? 1 : 0;
      while (j < raw.length && single(raw[j].t) && raw[j].start - raw[j - 1].end === 1) {
        const s = text[raw[j].start - 1];
        if (sep === '') sep = s;
        else if (s !== sep) break;
        if (HAS_LETTER.test(raw[j].t)) letters++;
        j++;
      }
      if (j - i >= 3 && letters >= 2) {
        // `make a b o m b`: a leading `a` or `i` before a run of 3+ is more likely its own word.
        // Both readings are kept: `I g n o r e` is one word, `a b o m b` is two.
        const joined = raw.slice(i, j).map((r) => r.t).join('');
        if (j - i >= 4 && (raw[i].t === 'a' || raw[i].t === 'i')) alts.set(tokens.length, `${raw[i].t} ${joined.slice(1)}`);
        tokens.push(joined);
        i = j;
        continue;
      }
    }
    tokens.push(raw[i].t);
    i++;
  }
  return { tokens, alts };
}

/** Collapse runs of 3+ identical letters to `keep` letters (`kiiiill` → `kill` with keep=1). */
function squeeze(s: string, keep: 1 | 2): string {
  return keep === 1 ? s.replace(/([a-z])\1{2,}/g, '$1') : s.replace(/([a-z])\1{2,}/g, '$1$1');
}

const HAS_TRIPLE = /([a-z])\1{2,}/;

/** Words on each side of an ambiguous word in the snippets matched for its other readings. */
const SNIPPET_RADIUS = 12;
/** Above this many ambiguous words, whole-text alternatives are used instead of snippets. */
const MAX_SNIPPET_WORDS = 32;

function readings(token: string, alt: string | undefined): string[] {
  if (token === BREAK_CHAR) return [SENTENCE_BREAK];
  if (alt === undefined && PLAIN_WORD.test(token) && !HAS_TRIPLE.test(token)) return [token];
  const candidates: string[] = [];
  const a = foldLeet(token, false);
  candidates.push(a.folded);
  if (a.ambiguous) candidates.push(foldLeet(token, true).folded);
  if (alt !== undefined) candidates.push(alt.split(' ').map((t) => foldLeet(t, false).folded).filter(Boolean).join(' '));
  const out: string[] = [];
  for (const c of candidates) {
    if (!c) continue;
    if (HAS_TRIPLE.test(c)) out.push(squeeze(c, 2), squeeze(c, 1));
    else out.push(c);
  }
  return [...new Set(out)];
}

/**
 * Normalize text for matching. Never throws on any string input.
 *
 * `variants[0]` is the whole text in its primary reading. Words with other readings (`1` as `l`,
 * elongations squeezed to one letter, `i gnore` vs `ignore`) add short snippets (the word in its
 * other reading with SNIPPET_RADIUS words either side), so their cost does not grow with the
 * text; with very many such words, whole-text alternatives are used instead.
 */
export function normalize(input: string): NormalizedText {
  const base = normalizeBase(foldCharacters(input));
  const extra = extraReadings(input, base.text).filter((v) => !base.variants.includes(v));
  if (extra.length === 0) return base;
  return {
    text: base.text,
    variants: [...base.variants, ...extra],
    focus: [...(base.focus ?? base.variants.map(() => null)), ...extra.map(() => null)],
  };
}

/** `normalize` without the extra readings, from already folded characters. */
function normalizeBase(folded: string): NormalizedText {
  const { tokens, alts } = tokenize(folded);
  const words: string[] = [];
  const others: { index: number; alternatives: string[] }[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const r = readings(tokens[k], alts.get(k));
    if (r.length === 0) continue;
    // No leading, trailing or repeated sentence breaks.
    if (r[0] === SENTENCE_BREAK && (words.length === 0 || words[words.length - 1] === SENTENCE_BREAK)) continue;
    if (r.length > 1) others.push({ index: words.length, alternatives: r.slice(1) });
    words.push(r[0]);
  }
  if (words[words.length - 1] === SENTENCE_BREAK) words.pop();
  const text = words.join(' ');
  if (others.length === 0) return { text, variants: [text] };
  const variants = [text];
  const focus: ([number, number] | null)[] = [null];
  const seen = new Set(variants);
  const add = (v: string, f: [number, number] | null): void => {
    if (seen.has(v)) return;
    seen.add(v);
    variants.push(v);
    focus.push(f);
  };
  if (others.length <= MAX_SNIPPET_WORDS) {
    for (const o of others) {
      const before = words.slice(Math.max(0, o.index - SNIPPET_RADIUS), o.index);
      const after = words.slice(o.index + 1, o.index + 1 + SNIPPET_RADIUS);
      const start = before.length ? before.join(' ').length + 1 : 0;
      for (const alt of o.alternatives) add([...before, alt, ...after].join(' '), [start, start + alt.length]);
    }
  } else {
    const first = [...words];
    const last = [...words];
    for (const o of others) {
      first[o.index] = o.alternatives[0];
      last[o.index] = o.alternatives[o.alternatives.length - 1];
    }
    add(first.join(' '), null);
    add(last.join(' '), null);
  }
  return { text, variants, focus };
}

// Punctuation inside a word (`bo-mb`, `ex.plo.sive`, `k*ll`): a second whole-text reading with
// it removed. Sentence ends are not affected (a `.` before a space is not inside a word).
const IN_WORD_PUNCT = /(?<=\p{L})[-_.*~^=\/\\"'`,:;]+(?=\p{L})/gu;

/**
 * Words people misspell on purpose to dodge filters. A word of 5+ letters one edit (insertion,
 * deletion, substitution, swap) away from one of these, with the same first letter, is read as
 * it in an extra variant. Short words are left alone (`math` is not `meth`).
 */
const MISSPELLING_TARGETS = [
  'bomb', 'bombs', 'explosive', 'explosives', 'detonator', 'grenade', 'poison', 'cyanide', 'ricin', 'sarin',
  'anthrax', 'meth', 'methamphetamine', 'fentanyl', 'heroin', 'cocaine', 'murder', 'kill', 'suicide',
  'ransomware', 'keylogger', 'malware', 'silencer', 'suppressor', 'firearm', 'weapon', 'weapons', 'uranium',
  'plutonium', 'napalm', 'thermite', 'molotov', 'terrorist', 'nerve', 'build', 'synthesize', 'assemble',
  'strangle', 'myself', 'yourself', 'stalk', 'phishing', 'launder', 'counterfeit', 'untraceable', 'undetectable',
];
const TARGETS_BY_FIRST = new Map<string, string[]>();
for (const t of MISSPELLING_TARGETS) TARGETS_BY_FIRST.set(t[0], [...(TARGETS_BY_FIRST.get(t[0]) ?? []), t]);
const TARGET_SET = new Set(MISSPELLING_TARGETS);
// Real words one edit from a target, in the languages Parley serves.
const NOT_MISSPELLINGS = new Set(['poisson', 'poisons', 'murders', 'kills', 'bombe', 'stalks', 'builds', 'nerves', 'weapon']);

/** Is the (optimal string alignment) edit distance between a and b exactly 1? */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  if (a.length === b.length) {
    const diff: number[] = [];
    for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
    if (diff.length === 1) return true;
    return diff.length === 2 && diff[1] === diff[0] + 1 && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
  }
  const [s, l] = a.length < b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  return s.slice(i) === l.slice(i + 1);
}

function corrected(word: string): string | undefined {
  if (word.length < 5 || TARGET_SET.has(word) || NOT_MISSPELLINGS.has(word) || !PLAIN_WORD.test(word)) return undefined;
  for (const t of TARGETS_BY_FIRST.get(word[0]) ?? []) if (oneEditApart(word, t)) return t;
  return undefined;
}

/**
 * Extra whole-text readings beyond `normalize`'s: punctuation inside words removed, and words
 * one typo away from a filtered word spelled right. Returns only readings that differ.
 */
export function extraReadings(input: string, primary: string): string[] {
  const out: string[] = [];
  const folded = foldCharacters(input);
  IN_WORD_PUNCT.lastIndex = 0;
  if (IN_WORD_PUNCT.test(folded)) {
    IN_WORD_PUNCT.lastIndex = 0;
    const joined = normalizeBase(folded.replace(IN_WORD_PUNCT, '')).text;
    if (joined !== primary) out.push(joined);
  }
  for (const text of [primary, ...out]) {
    let changed = false;
    const words = text.split(' ').map((w) => {
      const c = corrected(w);
      if (c) changed = true;
      return c ?? w;
    });
    if (changed) out.push(words.join(' '));
  }
  return [...new Set(out)];
}

/** Normalize a rule term or allow phrase the same way text is normalized (primary variant). */
export function normalizeTerm(term: string): string {
  return normalizeBase(foldCharacters(term)).text;
}
