// Constrained decoding: which tokens may come next for a request whose output must follow a
// constraint (a JSON Schema, any JSON object, the tool-call envelope). The grammar
// (json-grammar.ts) is a character automaton; here every vocabulary token's text is walked through
// it over a trie of the vocabulary (tokens sharing a prefix share the walk, and a branch is cut at
// the first character the grammar refuses, so a mask costs far less than |V| walks), and the
// result is cached per grammar state: inside a string or between keys the same state recurs, so
// most steps are a cache hit. Compiled grammars are cached per constraint (LRU), so a schema is
// compiled once per engine, not once per request.
//
// A mask entry is not a bit but the fewest characters still needed to complete the JSON after that
// token (−1: not allowed). A request with r tokens left may only take tokens whose completion fits
// in r − 1 more tokens, so the JSON is always closed before max tokens — even by a random model.
import type { Constraint } from '../../schemas/constraint.ts';
import { canEnd, Grammar, inFreeText, minClose, stateKey, stepAll, walk, type State } from './json-grammar.ts';
import type { ParleyTokenizer } from './tokenizer.ts';

interface TrieNode { chars: string[]; kids: TrieNode[]; ids: number[] }

/** The vocabulary as text: each token's decoded text and a trie over them. */
export class Vocabulary {
  readonly size: number;
  readonly texts: (string | null)[];
  readonly root: TrieNode = { chars: [], kids: [], ids: [] };

  /** size: the model's vocabulary (logit row length); eos: tokens that end the generation */
  constructor(tokenizer: ParleyTokenizer, size: number, readonly eos: readonly number[]) {
    this.size = size;
    this.texts = new Array(size).fill(null);
    for (let id = 0; id < size; id++) {
      if (tokenizer.specialIds.has(id) || tokenizer.idToToken(id) === undefined) continue;
      let text = tokenizer.decode([id], { skipSpecialTokens: false });
      // a SentencePiece word-start piece decodes without its space when alone
      if (tokenizer.idToToken(id)!.startsWith('\u2581') && !text.startsWith(' ')) text = ` ${text}`;
      // an empty text or part of a multi-byte character is never allowed (JSON needs whole characters)
      if (text.length === 0 || text.includes('\uFFFD')) continue;
      this.texts[id] = text;
      this.insert(text, id);
    }
  }

  private insert(text: string, id: number): void {
    let n = this.root;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      let k = n.chars.indexOf(c);
      if (k < 0) {
        k = n.chars.length;
        n.chars.push(c);
        n.kids.push({ chars: [], kids: [], ids: [] });
      }
      n = n.kids[k];
    }
    n.ids.push(id);
  }
}

const MASK_CACHE_ENTRIES = 2048;

/** One state's mask: per token the characters still needed after it (−1: not allowed), and the
 *  allowed / forbidden ids listed, so applying it touches only the smaller side of the row. */
export interface Mask {
  cost: Int32Array;
  allowed: Int32Array;
  forbidden: Int32Array;
  /** the largest cost of an allowed token: with at least this budget, `allowed` is the whole answer */
  maxCost: number;
}

function toMask(cost: Int32Array): Mask {
  let n = 0;
  let maxCost = 0;
  for (let i = 0; i < cost.length; i++) if (cost[i] >= 0) { n++; if (cost[i] > maxCost) maxCost = cost[i]; }
  const allowed = new Int32Array(n);
  const forbidden = new Int32Array(cost.length - n);
  let a = 0;
  let f = 0;
  for (let i = 0; i < cost.length; i++) if (cost[i] >= 0) allowed[a++] = i; else forbidden[f++] = i;
  return { cost, allowed, forbidden, maxCost };
}

/** One compiled constraint: its grammar and the masks of the states seen so far. */
export class CompiledConstraint {
  readonly grammar: Grammar;
  private readonly masks = new Map<string, Mask>();
  masksComputed = 0;
  maskHits = 0;

  constructor(constraint: Constraint, readonly vocab: Vocabulary) {
    this.grammar = new Grammar(constraint);
  }

  /** the mask of a set of states (cached) */
  mask(states: readonly State[]): Mask {
    const key = states.map(stateKey).sort().join('\n');
    const hit = this.masks.get(key);
    if (hit) {
      this.maskHits++;
      this.masks.delete(key);
      this.masks.set(key, hit); // most recently used last
      return hit;
    }
    const m = toMask(this.computeMask(states));
    this.masksComputed++;
    this.masks.set(key, m);
    if (this.masks.size > MASK_CACHE_ENTRIES) this.masks.delete(this.masks.keys().next().value!);
    return m;
  }

  private computeMask(states: readonly State[]): Int32Array {
    const m = new Int32Array(this.vocab.size).fill(-1);
    const visit = (node: TrieNode, cur: readonly State[]) => {
      for (let k = 0; k < node.chars.length; k++) {
        const next = stepAll(cur, node.chars[k]);
        if (next.length === 0) continue; // the grammar refuses this character: the whole branch
        const kid = node.kids[k];
        if (kid.ids.length) {
          let close = Infinity;
          for (const s of next) close = Math.min(close, minClose(s));
          for (const id of kid.ids) m[id] = close;
        }
        if (kid.chars.length) visit(kid, next);
      }
    };
    visit(this.vocab.root, states);
    if (states.some(canEnd)) for (const id of this.vocab.eos) if (id < m.length) m[id] = 0;
    return m;
  }
}

/** Compiled constraints by their canonical JSON, least recently used dropped first. */
export class ConstraintCache {
  private readonly compiled = new Map<string, CompiledConstraint>();
  constructor(readonly vocab: Vocabulary, private readonly capacity = 64) {}

  /** a new cursor for one request (throws SchemaError for an unsupported schema) */
  cursor(constraint: Constraint): ConstraintCursor {
    const key = JSON.stringify(constraint);
    let c = this.compiled.get(key);
    if (c) this.compiled.delete(key);
    else c = new CompiledConstraint(constraint, this.vocab);
    this.compiled.set(key, c);
    if (this.compiled.size > this.capacity) this.compiled.delete(this.compiled.keys().next().value!);
    return new ConstraintCursor(c);
  }

  get size(): number {
    return this.compiled.size;
  }
}

/** Where one request stands in its constraint. */
export class ConstraintCursor {
  private states: State[];

  /** states: where to start (default: the beginning of the output) */
  constructor(readonly compiled: CompiledConstraint, states?: State[]) {
    this.states = states ?? [compiled.grammar.start()];
  }

  /** −Infinity on every logit the constraint forbids with `remaining` tokens left (≥ 1 allowed) */
  apply(logits: Float32Array, remaining: number): void {
    const mask = this.compiled.mask(this.states);
    const budget = remaining - 1;
    // In free text (auto tool calls) a call may begin whatever the budget: the budget counts a
    // character per token, far fewer than a call really needs (measured: with 47 tokens left the
    // shipped model's 25-token call was refused, and it wrote "</tool_call>" instead). A call begun
    // then closes by the budget rule below; one cut by max tokens is the saga's INVALID_CALL.
    const free = this.states.every(inFreeText);
    if ((free || budget >= mask.maxCost) && mask.allowed.length > 0 && logits.length === mask.cost.length) {
      // the usual case: the budget is no constraint, only the grammar is
      if (mask.forbidden.length <= mask.allowed.length) {
        const f = mask.forbidden;
        for (let k = 0; k < f.length; k++) logits[f[k]] = -Infinity;
      } else {
        const keep = new Float32Array(mask.allowed.length);
        for (let k = 0; k < keep.length; k++) keep[k] = logits[mask.allowed[k]];
        logits.fill(-Infinity);
        for (let k = 0; k < keep.length; k++) logits[mask.allowed[k]] = keep[k];
      }
      return;
    }
    const m = mask.cost;
    let best = Infinity;
    let allowed = 0;
    for (let i = 0; i < logits.length; i++) {
      const c = i < m.length ? m[i] : -1;
      if (c < 0 || c > budget) {
        if (c >= 0 && c < best) best = c;
        logits[i] = -Infinity;
      } else allowed++;
    }
    // too few tokens left to close the JSON at all: the shortest way towards it, at least
    if (allowed === 0) for (let i = 0; i < m.length; i++) if (m[i] === best) logits[i] = 0;
  }

  /** takes a sampled token; false when the constraint did not allow it */
  advance(id: number): boolean {
    if (this.compiled.vocab.eos.includes(id)) return this.states.some(canEnd);
    const text = this.compiled.vocab.texts[id];
    const next = text === null || text === undefined ? [] : walk(this.states, text);
    if (next.length === 0) return false;
    this.states = next;
    return true;
  }

  /** the JSON is complete and nothing may follow it: the generation ends here */
  get complete(): boolean {
    return this.states.every((s) => s === null);
  }

  /** Takes a sampled token; true when the output ends with it: its JSON is complete, or `atMax` (the
   *  last token max tokens allow) and the output is whole there — e.g. a closed call where another
   *  could follow, which the budget rule steers to; free text may end anywhere, so there a cut stays
   *  a cut. The one end rule of the engine and the Runner. */
  closesWith(id: number, atMax: boolean): boolean {
    return this.advance(id) && (this.complete || (atMax && this.states.some((s) => canEnd(s) && !inFreeText(s))));
  }
}
