// Cheap ciphers people use to slip a request past a filter: ROT13 and reversed text. The cascade
// checks the text as written AND each decoding that reads more like language than the original
// (both ways: "how to make a bomb" reversed is caught, and so is plain text that merely contains
// a reversed word). Decoding is judged by counting common function words, so random strings and
// ordinary text that happens to decode to noise add no work and no false positives.

export type Decoding = 'rot13' | 'reversed';

export interface DecodedText {
  readonly kind: Decoding;
  readonly text: string;
}

// Function words of the six languages the model covers: a decoding that yields several of them
// (and more than the original has) is taken as meant to be read.
const COMMON = new Set(
  (
    'the a an to of and or how do i you is are what in on for with me my make can tell give write ' +
    'le la les de des un une et comment faire je tu est pour avec moi ' +
    'el los las una y como hacer yo es para con mi ' +
    'der die das ein eine und wie ich du ist mit mir zu ' +
    'il lo gli di e come fare io per con ' +
    'o os um uma como fazer eu voce para com'
  ).split(' '),
);

function commonWords(text: string): number {
  let n = 0;
  for (const w of text.toLowerCase().split(/[^\p{L}]+/u)) if (COMMON.has(w)) n++;
  return n;
}

export function rot13(text: string): string {
  return text.replace(/[a-zA-Z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

export function reverseChars(text: string): string {
  return Array.from(text).reverse().join('');
}

/** At most this many characters are decoded: the ciphers are for short smuggled requests. */
export const MAX_DECODE_CHARS = 4096;

/** The decodings of `text` that read as language (more common words than the text itself, and ≥ 2). */
export function decodings(text: string): DecodedText[] {
  const t = text.length > MAX_DECODE_CHARS ? text.slice(0, MAX_DECODE_CHARS) : text;
  const base = commonWords(t);
  const out: DecodedText[] = [];
  const candidates: [Decoding, string][] = [
    ['rot13', rot13(t)],
    ['reversed', reverseChars(t)],
  ];
  for (const [kind, decoded] of candidates) {
    const n = commonWords(decoded);
    if (n >= 2 && n > base) out.push({ kind, text: decoded });
  }
  return out;
}
