// The shared vocabulary of the constraint grammar (json-grammar.ts): the compiled schema's nodes,
// the automaton's frames and states, the error a schema Parley cannot enforce raises, and the
// object arithmetic both the compiler (a node's shortest text) and the automaton (the fewest
// characters that close a value) use.
/** the most digits the grammar lets an integer part have: every integer it writes is a safe one */
export const MAX_INT_DIGITS = 15;

export class SchemaError extends Error {
  /** e.g. "properties.address.type" */
  constructor(message: string, readonly path: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'SchemaError';
  }
}

export interface Prop { key: string; lit: string; node: Node; req: boolean }
export type Node = { id: number; min: number } & (
  | { k: 'str' }
  | { k: 'num'; int: boolean }
  | { k: 'lit'; texts: string[] }
  | { k: 'obj'; props: Prop[] | null } // null: any keys, any values
  | { k: 'arr'; items: Node }
  | { k: 'alt'; options: Node[] }
  | { k: 'any' }
  | { k: 'seq'; parts: (string | Node)[] }
  | { k: 'rep'; item: Node; sep: string }
  // free text until `trigger` is written, then `item` from after the trigger's characters (its
  // first part starts with the trigger); after the item, free text again when `again`, else the end.
  // item null: the trigger is forbidden (the character that would complete it is rejected)
  | { k: 'free'; trigger: string; item: Of<'seq'> | null; again: boolean }
);
export type Of<K extends Node['k']> = Extract<Node, { k: K }>;

export type NumPhase = 'sign' | 'zero' | 'int' | 'dot' | 'frac' | 'e' | 'esign' | 'exp';
export type ObjPhase = 'open' | 'colon' | 'ac' | 'acws' | 'next' | 'comma' | 'commaws';
export type Frame =
  | { t: 'val'; n: Node }
  | { t: 'str'; e: number } // e: 0 plain, 1 after '\', 2..5: e−1 hex digits of \u still to come
  | { t: 'num'; int: boolean; p: NumPhase; d: number }
  | { t: 'lit'; s: string; i: number }
  | { t: 'obj'; n: Of<'obj'>; p: ObjPhase; i: number }
  | { t: 'arr'; n: Of<'arr'>; p: 'open' | 'next' | 'sep' | 'sepws' }
  | { t: 'seq'; n: Of<'seq'>; i: number; j: number }
  | { t: 'rep'; n: Of<'rep'>; j: number }
  | { t: 'free'; n: Of<'free'>; m: number }; // m: characters of the trigger matched so far

/** a stack of frames, top first; null = the value is complete, nothing more may follow */
export interface St { f: Frame; up: State; key?: string }
export type State = St | null;

/** characters to finish an object from property `from` on: its required properties, then '}' */
export function objTail(n: Of<'obj'>, from: number, needComma: boolean): number {
  let c = 1;
  let comma = needComma;
  for (let j = from; j < n.props!.length; j++) {
    const p = n.props![j];
    if (!p.req) continue;
    c += (comma ? 1 : 0) + p.lit.length + 1 + p.node.min;
    comma = true;
  }
  return c;
}

export function hasRequiredFrom(n: Of<'obj'>, from: number): boolean {
  for (let j = from; j < n.props!.length; j++) if (n.props![j].req) return true;
  return false;
}
