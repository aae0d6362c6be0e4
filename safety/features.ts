// Features of the learned moderation model: hashed character n-grams (3–5) and word uni/bigrams of
// the normalized text. Character n-grams carry across languages and survive typos and odd
// spellings; hashing keeps the model a fixed size with no vocabulary file. The trainer
// (safety/train/) computes features with this same function, so training and serving agree.
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
  return ids.length > MAX_FEATURES ? ids.slice(0, MAX_FEATURES) : ids;
}

/** Feature ids of raw text (normalized first, primary reading). */
export function featureIds(text: string): number[] {
  return featureIdsOfNormalized(normalize(text).text);
}

/**
 * Byte ids for a character-level model (the round-4 char-CNN experiment, safety/README.md; not the
 * shipped model): the UTF-8 bytes of the normalized text, each + 1 (0 is padding), at most
 * MAX_BYTES (the normalized training texts are ASCII, p99 about 300 bytes).
 */
export const MAX_BYTES = 512;

export function byteIds(text: string): number[] {
  const bytes = Buffer.from(normalize(text).text, 'utf8');
  const n = Math.min(bytes.length, MAX_BYTES);
  const ids = new Array<number>(n);
  for (let i = 0; i < n; i++) ids[i] = bytes[i] + 1;
  return ids;
}
