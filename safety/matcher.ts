// One-pass multi-phrase matcher (Aho-Corasick compiled to a DFA) over normalized text.
//
// Normalized text is lowercase words separated by single spaces, so a word boundary is a space or
// an end of the text. A phrase ending in `*` matches as a prefix (`suicid*` matches `suicidal`).

export interface Phrase<T> {
  /** Already-normalized phrase; a trailing `*` makes the last word a prefix. */
  readonly phrase: string;
  readonly payload: T;
}

export interface PhraseHit<T> {
  readonly payload: T;
  readonly start: number;
  readonly end: number;
}

const SPACE = 32;

export class PhraseMatcher<T> {
  private readonly classOf = new Map<number, number>();
  private readonly width: number;
  private readonly next: Int32Array;
  /** For each state, indices into `entries` of every phrase ending there (own and via fail links). */
  private readonly out: (readonly number[] | undefined)[];
  private readonly entries: { payload: T; length: number; prefix: boolean }[] = [];

  constructor(phrases: readonly Phrase<T>[]) {
    // Character classes: one per distinct code unit used in any phrase; everything else is class 0.
    for (const p of phrases) {
      const s = p.phrase.endsWith('*') ? p.phrase.slice(0, -1) : p.phrase;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (!this.classOf.has(c)) this.classOf.set(c, this.classOf.size + 1);
      }
    }
    this.width = this.classOf.size + 1;
    // Trie.
    const children: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    for (const p of phrases) {
      const prefix = p.phrase.endsWith('*');
      const s = prefix ? p.phrase.slice(0, -1) : p.phrase;
      if (s.length === 0) continue;
      let node = 0;
      for (let i = 0; i < s.length; i++) {
        const cls = this.classOf.get(s.charCodeAt(i))!;
        let child = children[node].get(cls);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          own.push([]);
          children[node].set(cls, child);
        }
        node = child;
      }
      own[node].push(this.entries.length);
      this.entries.push({ payload: p.payload, length: s.length, prefix });
    }
    // BFS: fail links and the full transition table.
    const n = children.length;
    const next = new Int32Array(n * this.width);
    const fail = new Int32Array(n);
    const out: (number[] | undefined)[] = new Array(n);
    const queue: number[] = [];
    for (let c = 0; c < this.width; c++) {
      const child = children[0].get(c);
      if (child !== undefined) {
        next[c] = child;
        fail[child] = 0;
        queue.push(child);
      }
    }
    out[0] = own[0].length ? own[0] : undefined;
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi];
      const inherited = out[fail[node]];
      out[node] = own[node].length || inherited ? [...own[node], ...(inherited ?? [])] : undefined;
      for (let c = 0; c < this.width; c++) {
        const child = children[node].get(c);
        if (child !== undefined) {
          next[node * this.width + c] = child;
          fail[child] = next[fail[node] * this.width + c];
          queue.push(child);
        } else {
          next[node * this.width + c] = next[fail[node] * this.width + c];
        }
      }
    }
    this.next = next;
    this.out = out;
  }

  /** Calls `onHit` for every phrase occurrence that sits on word boundaries. */
  scan(text: string, onHit: (hit: PhraseHit<T>) => void): void {
    const { classOf, width, next, out, entries } = this;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      state = next[state * width + (classOf.get(code) ?? 0)];
      const ends = out[state];
      if (ends === undefined) continue;
      const after = i + 1 < text.length ? text.charCodeAt(i + 1) : SPACE;
      for (const e of ends) {
        const entry = entries[e];
        const start = i + 1 - entry.length;
        if (start > 0 && text.charCodeAt(start - 1) !== SPACE) continue;
        if (!entry.prefix && after !== SPACE) continue;
        onHit({ payload: entry.payload, start, end: entry.prefix ? wordEnd(text, i + 1) : i + 1 });
      }
    }
  }

  get size(): number {
    return this.entries.length;
  }
}

function wordEnd(text: string, from: number): number {
  const sp = text.indexOf(' ', from);
  return sp === -1 ? text.length : sp;
}
