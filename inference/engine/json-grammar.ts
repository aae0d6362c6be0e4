// A constraint (schemas/constraint.ts) compiled into a character-level pushdown automaton: a state
// is an immutable stack of frames (a value expected, inside a string, a number, a literal, an
// object's nth property, an array, a literal envelope), step(state, ch) gives the states after one
// more character (several when anyOf / optional keys leave a choice open), and minClose(state) the
// fewest characters that complete the value (used to close the JSON before max tokens runs out).
// token-mask.ts walks every vocabulary token's text through it over a trie.
//
// The JSON it accepts is compact: no whitespace except one optional space after ':' and ',' (the
// form `{"name": "f", "arguments": {…}}` of the tool-call template), object keys in the order of the
// schema's `required` list, then the optional keys alphabetically (json-schema-compiler.ts says why),
// numbers of at most 15 integer / 10 fraction / 2 exponent digits. Non-whitespace-bounded so that
// even a random model cannot loop forever inside the grammar.
//
// The grammar in three files, by job: json-grammar-nodes.ts (nodes, frames, states), json-schema-compiler.ts
// (a constraint → nodes: Grammar), json-automaton.ts (step, canEnd, minClose, stateKey, walk).
export { SchemaError, type Frame, type Node, type Prop, type St, type State } from './json-grammar-nodes.ts';
export { Grammar } from './json-schema-compiler.ts';
export { canEnd, inFreeText, minClose, stateKey, step, stepAll, walk } from './json-automaton.ts';
