// The grammar's character automaton over the compiled nodes (json-schema-compiler.ts): a state is
// an immutable stack of frames; step gives the states after one more character, canEnd / minClose
// say whether and how soon the value can end, stateKey identifies a state for the mask cache.
import { hasRequiredFrom, MAX_INT_DIGITS, objTail, type Frame, type Node, type NumPhase, type ObjPhase, type Of, type St, type State } from './json-grammar-nodes.ts';

const MAX_FRAC_DIGITS = 10;
const MAX_EXP_DIGITS = 2; // ≤ 1e99: a double, never Infinity

const mk = (f: Frame, up: State): St => ({ f, up });
type FreeSt = St & { f: Extract<Frame, { t: 'free' }> };
const isDigit = (c: string) => c >= '0' && c <= '9';
const isHex = (c: string) => isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
const NUM_DONE: Record<NumPhase, boolean> = { sign: false, zero: true, int: true, dot: false, frac: true, e: false, esign: false, exp: true };
const ESCAPES = '"\\/bfnrt';

// The parts of "any JSON value".
const ANY_STR = { id: -1, min: 2, k: 'str' } as Node;
const ANY_NUM = { id: -2, min: 1, k: 'num', int: false } as Node;
const ANY_LIT = { id: -3, min: 4, k: 'lit', texts: ['true', 'false', 'null'] } as Node;
const ANY_OBJ = { id: -4, min: 2, k: 'obj', props: null } as Node;
const ANY_ARR = { id: -5, min: 2, k: 'arr', items: null as unknown as Node } as Of<'arr'>;
const ANY = { id: -6, min: 1, k: 'any' } as Node;
ANY_ARR.items = ANY;
const ANY_PARTS = [ANY_STR, ANY_NUM, ANY_LIT, ANY_OBJ, ANY_ARR];

/** the states after reading `ch` in state `st`, appended to `out` (none: `ch` is not allowed) */
export function step(st: State, ch: string, out: State[]): void {
  if (st === null) return;
  const f = st.f;
  const up = st.up;
  switch (f.t) {
    case 'val': return startValue(f.n, ch, up, out);
    case 'str': {
      if (f.e === 0) {
        if (ch === '"') out.push(up);
        else if (ch === '\\') out.push(mk({ t: 'str', e: 1 }, up));
        else if (ch >= ' ') out.push(st); // the same state: a string's body costs no allocation
        return;
      }
      if (f.e === 1) {
        if (ESCAPES.includes(ch)) out.push(mk({ t: 'str', e: 0 }, up));
        else if (ch === 'u') out.push(mk({ t: 'str', e: 5 }, up));
        return;
      }
      if (isHex(ch)) out.push(mk({ t: 'str', e: f.e === 2 ? 0 : f.e - 1 }, up));
      return;
    }
    case 'num': return numStep(f, ch, up, out);
    case 'lit':
      if (ch === f.s[f.i]) out.push(f.i + 1 === f.s.length ? up : mk({ t: 'lit', s: f.s, i: f.i + 1 }, up));
      return;
    case 'obj': return f.n.props ? objStep(f, ch, up, out) : freeObjStep(f, ch, up, out);
    case 'arr': {
      const { n, p } = f;
      if ((p === 'open' || p === 'next') && ch === ']') out.push(up);
      else if (p === 'next') { if (ch === ',') out.push(mk({ t: 'arr', n, p: 'sep' }, up)); }
      else if (p === 'sep' && ch === ' ') out.push(mk({ t: 'arr', n, p: 'sepws' }, up));
      else startValue(n.items, ch, mk({ t: 'arr', n, p: 'next' }, up), out);
      return;
    }
    case 'seq': return seqAt(f.n, f.i, f.j, ch, up, out);
    case 'rep': {
      const { n, j } = f;
      if (j < n.sep.length) { if (ch === n.sep[j]) out.push(mk({ t: 'rep', n, j: j + 1 }, up)); return; }
      return startValue(n.item, ch, mk({ t: 'rep', n, j: 0 }, up), out);
    }
    case 'free': return freeStep(st as FreeSt, ch, out);
  }
}

// Free text: every character is allowed; the trigger's progress is tracked (as a string search
// would) so that the character completing it enters the item, past the trigger's characters.
function freeStep(st: FreeSt, ch: string, out: State[]): void {
  const { f, up } = st;
  const { n } = f;
  const t = n.trigger;
  if (ch === t[f.m] && f.m + 1 === t.length) {
    if (n.item === null) return; // a forbidden trigger: this character ends every path
    const after = n.again ? mk({ t: 'free', n, m: 0 }, up) : up;
    out.push(mk({ t: 'seq', n: n.item, i: 0, j: t.length }, after));
    return;
  }
  // the longest prefix of the trigger that ends the text read so far
  const seen = t.slice(0, f.m) + ch;
  let m = Math.min(seen.length, t.length - 1);
  while (m > 0 && !seen.endsWith(t.slice(0, m))) m--;
  out.push(m === f.m ? st : mk({ t: 'free', n, m }, up)); // unchanged: the same state, no allocation
}

function startValue(n: Node, ch: string, up: State, out: State[]): void {
  switch (n.k) {
    case 'str': if (ch === '"') out.push(mk({ t: 'str', e: 0 }, up)); return;
    case 'num':
      if (ch === '-') out.push(mk({ t: 'num', int: n.int, p: 'sign', d: 0 }, up));
      else if (ch === '0') out.push(mk({ t: 'num', int: n.int, p: 'zero', d: 1 }, up));
      else if (isDigit(ch)) out.push(mk({ t: 'num', int: n.int, p: 'int', d: 1 }, up));
      return;
    case 'lit':
      for (const s of n.texts) if (s[0] === ch) out.push(s.length === 1 ? up : mk({ t: 'lit', s, i: 1 }, up));
      return;
    case 'obj': if (ch === '{') out.push(mk({ t: 'obj', n, p: 'open', i: 0 }, up)); return;
    case 'arr': if (ch === '[') out.push(mk({ t: 'arr', n, p: 'open' }, up)); return;
    case 'alt': for (const o of n.options) startValue(o, ch, up, out); return;
    case 'any': for (const o of ANY_PARTS) startValue(o, ch, up, out); return;
    case 'seq': return seqAt(n, 0, 0, ch, up, out);
    case 'rep': return startValue(n.item, ch, mk({ t: 'rep', n, j: 0 }, up), out);
    case 'free': return freeStep(mk({ t: 'free', n, m: 0 }, up) as FreeSt, ch, out);
  }
}

function numStep(f: Extract<Frame, { t: 'num' }>, ch: string, up: State, out: State[]): void {
  const { int, p, d } = f;
  const to = (np: NumPhase, nd: number) => out.push(mk({ t: 'num', int, p: np, d: nd }, up));
  const digit = isDigit(ch);
  if (p === 'sign') { if (ch === '0') to('zero', 1); else if (digit) to('int', 1); return; }
  if (p === 'int' && digit) { if (d < MAX_INT_DIGITS) to('int', d + 1); return; }
  if ((p === 'zero' || p === 'int') && !int && ch === '.') return void to('dot', 0);
  if ((p === 'zero' || p === 'int' || p === 'frac') && !int && (ch === 'e' || ch === 'E')) return void to('e', 0);
  if (p === 'dot') { if (digit) to('frac', 1); return; }
  if (p === 'frac' && digit) { if (d < MAX_FRAC_DIGITS) to('frac', d + 1); return; }
  if (p === 'e') { if (ch === '+' || ch === '-') to('esign', 0); else if (digit) to('exp', 1); return; }
  if (p === 'esign') { if (digit) to('exp', 1); return; }
  if (p === 'exp' && digit) { if (d < MAX_EXP_DIGITS) to('exp', d + 1); return; }
  if (p === 'zero' && digit) return; // no leading zeros
  // the number is complete: the character belongs to what follows it
  if (NUM_DONE[p]) step(up, ch, out);
}

function keyStart(n: Of<'obj'>, from: number, ch: string, up: State, out: State[]): void {
  if (ch !== '"') return;
  const props = n.props!;
  for (let j = from; j < props.length; j++) {
    out.push(mk({ t: 'lit', s: props[j].lit, i: 1 }, mk({ t: 'obj', n, p: 'colon', i: j }, up)));
    if (props[j].req) break; // keys come in the compiled order (json-schema-compiler.ts): a required one cannot be skipped
  }
}

function objStep(f: Extract<Frame, { t: 'obj' }>, ch: string, up: State, out: State[]): void {
  const { n, p, i } = f;
  const props = n.props!;
  const to = (np: ObjPhase, ni = i) => out.push(mk({ t: 'obj', n, p: np, i: ni }, up));
  switch (p) {
    case 'open':
      if (ch === '}' && !hasRequiredFrom(n, 0)) out.push(up);
      return keyStart(n, 0, ch, up, out);
    case 'colon': if (ch === ':') to('ac'); return;
    case 'ac': if (ch === ' ') return void to('acws');
    // falls through: the value starts
    case 'acws': return startValue(props[i].node, ch, mk({ t: 'obj', n, p: 'next', i: i + 1 }, up), out);
    case 'next':
      if (ch === ',' && i < props.length) to('comma');
      else if (ch === '}' && !hasRequiredFrom(n, i)) out.push(up);
      return;
    case 'comma': if (ch === ' ') return void to('commaws');
    // falls through: the key starts
    case 'commaws': return keyStart(n, i, ch, up, out);
  }
}

function freeObjStep(f: Extract<Frame, { t: 'obj' }>, ch: string, up: State, out: State[]): void {
  const { n, p } = f;
  const to = (np: ObjPhase) => out.push(mk({ t: 'obj', n, p: np, i: 0 }, up));
  const key = () => ch === '"' && out.push(mk({ t: 'str', e: 0 }, mk({ t: 'obj', n, p: 'colon', i: 0 }, up)));
  switch (p) {
    case 'open': if (ch === '}') out.push(up); else key(); return;
    case 'colon': if (ch === ':') to('ac'); return;
    case 'ac': if (ch === ' ') return void to('acws');
    // falls through
    case 'acws': return startValue(ANY, ch, mk({ t: 'obj', n, p: 'next', i: 0 }, up), out);
    case 'next': if (ch === ',') to('comma'); else if (ch === '}') out.push(up); return;
    case 'comma': if (ch === ' ') return void to('commaws');
    // falls through
    case 'commaws': key(); return;
  }
}

function seqAt(n: Of<'seq'>, i: number, j: number, ch: string, up: State, out: State[]): void {
  const part = n.parts[i];
  const after = (ni: number): State => (ni === n.parts.length ? up : mk({ t: 'seq', n, i: ni, j: 0 }, up));
  if (typeof part === 'string') {
    if (ch === part[j]) out.push(j + 1 === part.length ? after(i + 1) : mk({ t: 'seq', n, i, j: j + 1 }, up));
  } else startValue(part, ch, after(i + 1), out);
}

/** true when the text so far is a complete value (a number may go on, so may repeated tool calls) */
export function canEnd(st: State): boolean {
  for (let s = st; s !== null; s = s.up) {
    const f = s.f;
    if (f.t === 'num' && NUM_DONE[f.p]) continue;
    if (f.t === 'rep' && f.j === 0) continue;
    if (inFreeText(s)) continue; // free text may end anywhere
    return false;
  }
  return true;
}

/** true in free text (an auto tool-call constraint outside a call): nothing needs closing yet */
export function inFreeText(st: State): boolean {
  return st !== null && (st.f.t === 'free' || (st.f.t === 'val' && st.f.n.k === 'free'));
}

/** the fewest characters that complete the value from this state */
export function minClose(st: State): number {
  let c = 0;
  for (let s = st; s !== null; s = s.up) c += frameCost(s.f);
  return c;
}

function frameCost(f: Frame): number {
  switch (f.t) {
    case 'val': return f.n.min;
    case 'str': return f.e === 0 ? 1 : f.e === 1 ? 2 : f.e;
    case 'num': return NUM_DONE[f.p] ? 0 : 1;
    case 'lit': return f.s.length - f.i;
    case 'arr': return f.p === 'open' || f.p === 'next' ? 1 : f.n.items.min + 1;
    case 'rep': return f.j === 0 ? 0 : f.n.sep.length - f.j + f.n.item.min;
    case 'free': return 0;
    case 'seq': {
      let c = 0;
      for (let i = f.i; i < f.n.parts.length; i++) {
        const part = f.n.parts[i];
        c += typeof part === 'string' ? part.length - (i === f.i ? f.j : 0) : part.min;
      }
      return c;
    }
    case 'obj': {
      const { n, p, i } = f;
      if (!n.props) return { open: 1, colon: 3, ac: 2, acws: 2, next: 1, comma: 5, commaws: 5 }[p];
      switch (p) {
        case 'open': return objTail(n, 0, false);
        case 'colon': return 1 + n.props[i].node.min + objTail(n, i + 1, true);
        case 'ac': case 'acws': return n.props[i].node.min + objTail(n, i + 1, true);
        case 'next': return objTail(n, i, true);
        default: {
          let best = Infinity;
          for (let j = i; j < n.props.length; j++) {
            const q = n.props[j];
            best = Math.min(best, q.lit.length + 1 + q.node.min + objTail(n, j + 1, true));
            if (q.req) break;
          }
          return best;
        }
      }
    }
  }
}

/** a stable identity of a state (for deduplication and the mask cache) */
export function stateKey(st: State): string {
  if (st === null) return '$';
  if (st.key !== undefined) return st.key;
  const f = st.f;
  let k: string;
  switch (f.t) {
    case 'val': k = `v${f.n.id}`; break;
    case 'str': k = `s${f.e}`; break;
    case 'num': k = `n${f.int ? 1 : 0}${f.p}${f.d}`; break;
    case 'lit': k = `l${f.i}:${f.s}`; break;
    case 'obj': k = `o${f.n.id}${f.p}${f.i}`; break;
    case 'arr': k = `a${f.n.id}${f.p}`; break;
    case 'seq': k = `q${f.n.id}.${f.i}.${f.j}`; break;
    case 'rep': k = `r${f.n.id}.${f.j}`; break;
    case 'free': k = `f${f.n.id}.${f.m}`; break;
  }
  st.key = `${k}|${stateKey(st.up)}`;
  return st.key;
}

/** every state after reading `ch` from any of `states`, without duplicates */
export function stepAll(states: readonly State[], ch: string): State[] {
  const out: State[] = [];
  for (const s of states) step(s, ch, out);
  if (out.length < 2) return out;
  const seen = new Set<string>();
  return out.filter((s) => {
    const k = stateKey(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** the states after reading a whole text (empty: the text is not allowed) */
export function walk(states: readonly State[], text: string): State[] {
  let cur = states as State[];
  for (let i = 0; i < text.length; i++) {
    cur = stepAll(cur, text[i]); // UTF-16 code units, as the vocabulary trie walks them
    if (cur.length === 0) break;
  }
  return cur;
}
