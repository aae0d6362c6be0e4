// Features of the learned moderation model: hashed character n-grams (3–5) and word uni/bigrams of
// the normalized text. Character n-grams carry across languages and survive typos and odd
// spellings; hashing keeps the model a fixed size with no vocabulary file. The trainer
// (safety/train/) computes features with this same function, so training and serving agree.
import { conceptsOfPhrases, conceptsOfWord } from './concepts.ts';
import { normalize } from './normalize.ts';

/** Hash buckets; id 0 is padding (its embedding row is zero). */
export const BUCKETS = 1 << 17;
/** Features per text at most (about 1 KB of text; longer input is judged on its start). */
export const MAX_FEATURES = 4096;

/** FNV-1a, 32-bit, over UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const bucket = (s: string): number => (fnv1a(s) % (BUCKETS - 1)) + 1;

/** Feature ids of an already normalized text. */
export function featureIdsOfNormalized(text: string): number[] {
  const ids: number[] = [];
  const words = text.split(' ').filter((w) => w && w !== '|');
  for (let i = 0; i < words.length && ids.length < MAX_FEATURES; i++) {
    ids.push(bucket(`w:${words[i]}`));
    if (i + 1 < words.length) ids.push(bucket(`b:${words[i]} ${words[i + 1]}`));
    const w = ` ${words[i]} `;
    for (let n = 3; n <= 5; n++) for (let k = 0; k + n <= w.length; k++) ids.push(bucket(w.slice(k, k + n)));
  }
  // Concepts of the shared six-language lexicon (concepts.ts), and each pair of them: "kill" with
  // "secret" is the same signal in every language, and in requests the model never saw.
  const concepts = new Set(conceptsOfPhrases(words.join(' ')));
  for (const w of words) for (const c of conceptsOfWord(w)) concepts.add(c);
  const sorted = [...concepts].sort();
  const conceptIds: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    conceptIds.push(bucket(`k:${sorted[i]}`));
    for (let j = i + 1; j < sorted.length; j++) conceptIds.push(bucket(`kk:${sorted[i]}+${sorted[j]}`));
  }
  // Concept features come first so a long text's truncation never drops them.
  const all = [...conceptIds.slice(0, MAX_FEATURES / 4), ...ids];
  return all.length > MAX_FEATURES ? all.slice(0, MAX_FEATURES) : all;
}

/** Feature ids of raw text (normalized first, primary reading). */
export function featureIds(text: string): number[] {
  return featureIdsOfNormalized(normalize(text).text);
}
