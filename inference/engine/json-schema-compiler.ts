// A JSON Schema (or json_object, or the tool-call envelope) compiled into the grammar's nodes
// (json-grammar-nodes.ts): checked against the subset the automaton enforces (SchemaError names the
// path of anything else), each node with the length of its shortest text. json-grammar.ts is the
// public face; json-automaton.ts reads the nodes.
import type { Constraint } from '../../schemas/constraint.ts';
import { MAX_INT_DIGITS, objTail, SchemaError, type Node, type Of, type St } from './json-grammar-nodes.ts';

/** path segments of the deepest schema compiled (a bound on recursion) */
const MAX_DEPTH = 64;

const VALUE_KEYWORDS = ['pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'patternProperties', 'propertyNames', 'contains', 'prefixItems'];
// The bounds of an integer the grammar keeps anyway (it writes at most MAX_INT_DIGITS digits), such as
// the safe-integer bounds the official client's zodResponseFormat gives every z.number().int():
// nothing to enforce, so strict mode takes them.
const INT_LIMIT = 10 ** MAX_INT_DIGITS - 1;
const keptAnyway = (o: Record<string, unknown>, k: string) => o.type === 'integer' && typeof o[k] === 'number'
  && ((k === 'minimum' && (o[k] as number) <= -INT_LIMIT) || (k === 'maximum' && (o[k] as number) >= INT_LIMIT));
const UNSUPPORTED = ['$ref', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'dependentRequired'];
const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

export class Grammar {
  private readonly nodes: Node[] = [];
  readonly any: Node;
  readonly root: Node;

  constructor(constraint: Constraint) {
    this.any = this.node({ k: 'any' }, 1);
    this.root = this.compileConstraint(constraint);
  }

  /** the initial state: the root value expected */
  start(): St {
    return { f: { t: 'val', n: this.root }, up: null };
  }

  private node<N extends Omit<Node, 'id' | 'min'>>(n: N, min: number): N & { id: number; min: number } {
    const out = { ...n, id: this.nodes.length, min } as N & { id: number; min: number };
    this.nodes.push(out as unknown as Node);
    return out;
  }

  private compileConstraint(c: Constraint): Node {
    if (c.type === 'json_object') return this.node({ k: 'obj', props: null }, 2);
    if (c.type === 'json_schema') return this.schema(c.schema, '', c.strict);
    if (c.type === 'no_tool_calls') return this.node({ k: 'free', trigger: '<tool_call>', item: null, again: false }, 0);
    const calls = c.tools.map((t, i) => this.object([
      ['name', this.literal([JSON.stringify(t.name)]), true],
      ['arguments', this.schema(t.parameters, `tools[${i}].parameters`, t.strict, true), true],
    ]));
    const call = calls.length === 1 ? calls[0] : this.node({ k: 'alt', options: calls }, Math.min(...calls.map((x) => x.min)));
    const parts = ['<tool_call>\n', call, '\n</tool_call>'];
    const block = this.node({ k: 'seq', parts }, 12 + call.min + 13) as Of<'seq'>;
    // auto: free text, and a call only once `<tool_call>` is written (free text needs no characters)
    if (c.auto) return this.node({ k: 'free', trigger: '<tool_call>', item: block, again: c.parallel }, 0);
    return c.parallel ? this.node({ k: 'rep', item: block, sep: '\n' }, block.min) : block;
  }

  private literal(texts: string[]): Node {
    return this.node({ k: 'lit', texts }, Math.min(...texts.map((t) => t.length)));
  }

  private object(entries: [string, Node, boolean][]): Node {
    const props = entries.map(([key, node, req]) => ({ key, lit: JSON.stringify(key), node, req }));
    const n = this.node({ k: 'obj', props }, 0) as Of<'obj'>;
    n.min = 1 + objTail(n, 0, false);
    return n;
  }

  /** a JSON Schema → a node; objectOnly: the root of function parameters must be an object */
  schema(s: unknown, path: string, strict: boolean, objectOnly = false): Node {
    if (s === true || (s && typeof s === 'object' && Object.keys(s).length === 0)) {
      if (objectOnly) return this.node({ k: 'obj', props: null }, 2);
      return this.any;
    }
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw new SchemaError('a schema must be an object', path);
    if (path.split('.').length > MAX_DEPTH) throw new SchemaError(`schemas nest at most ${MAX_DEPTH} levels`, path);
    const o = s as Record<string, unknown>;
    const at = (k: string) => (path ? `${path}.${k}` : k);
    for (const k of UNSUPPORTED) if (k in o) throw new SchemaError(`"${k}" is not supported (supported: type, properties, required, additionalProperties, items, enum, const, anyOf)`, at(k));
    if (strict) for (const k of VALUE_KEYWORDS) if (k in o && !keptAnyway(o, k)) throw new SchemaError(`"${k}" is not supported in strict mode`, at(k));
    if ('const' in o) return this.literal([jsonText(o.const, at('const'))]);
    if ('enum' in o) {
      if (!Array.isArray(o.enum) || o.enum.length === 0) throw new SchemaError('enum must be a non-empty array', at('enum'));
      return this.literal((o.enum as unknown[]).map((v, i) => jsonText(v, at(`enum[${i}]`))));
    }
    if ('anyOf' in o) {
      if (!Array.isArray(o.anyOf) || o.anyOf.length === 0) throw new SchemaError('anyOf must be a non-empty array', at('anyOf'));
      const options = (o.anyOf as unknown[]).map((x, i) => this.schema(x, at(`anyOf[${i}]`), strict, objectOnly));
      return this.node({ k: 'alt', options }, Math.min(...options.map((x) => x.min)));
    }
    let type = o.type;
    if (type === undefined) {
      if ('properties' in o) type = 'object';
      else if ('items' in o) type = 'array';
      else if (objectOnly) type = 'object';
      else return this.any;
    }
    if (Array.isArray(type)) {
      if (type.length === 0) throw new SchemaError('type must not be an empty list', at('type'));
      const options = type.map((t) => this.schema({ ...o, type: t }, path, strict, objectOnly));
      return options.length === 1 ? options[0] : this.node({ k: 'alt', options }, Math.min(...options.map((x) => x.min)));
    }
    if (typeof type !== 'string' || !TYPES.includes(type)) throw new SchemaError(`type must be one of ${TYPES.join(', ')} (got ${JSON.stringify(type)})`, at('type'));
    if (objectOnly && type !== 'object') throw new SchemaError('function parameters must be a JSON Schema of type "object"', at('type'));
    switch (type) {
      case 'string': return this.node({ k: 'str' }, 2);
      case 'number': return this.node({ k: 'num', int: false }, 1);
      case 'integer': return this.node({ k: 'num', int: true }, 1);
      case 'boolean': return this.literal(['true', 'false']);
      case 'null': return this.literal(['null']);
      case 'array': {
        const items = o.items === undefined ? this.any : this.schema(o.items, at('items'), strict);
        return this.node({ k: 'arr', items }, 2);
      }
      default: return this.objectSchema(o, path, strict);
    }
  }

  private objectSchema(o: Record<string, unknown>, path: string, strict: boolean): Node {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    const props = o.properties ?? {};
    if (!props || typeof props !== 'object' || Array.isArray(props)) throw new SchemaError('properties must be an object', at('properties'));
    const required = o.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) throw new SchemaError('required must be an array of property names', at('required'));
    for (const r of required as string[]) if (!(r in props)) throw new SchemaError(`required names "${r}", which is not in properties`, at('required'));
    const ap = o.additionalProperties;
    if (ap !== undefined && typeof ap !== 'boolean' && (typeof ap !== 'object' || ap === null)) throw new SchemaError('additionalProperties must be a boolean or a schema', at('additionalProperties'));
    if (strict && ap !== false) throw new SchemaError('strict mode requires "additionalProperties": false on every object', at('additionalProperties'));
    // Keys in the order of `required`, then the optional ones alphabetically. Not the order of
    // `properties`: the event store (PostgreSQL jsonb) keeps an array's order but not an object's, so
    // a worker would read the properties in another order than the request was checked in (measured:
    // convert_units's {value, from, to} read back as {to, from, value}, and the model, forced to write
    // "to" first, wrote garbage). `required` usually lists the keys as the tool's prompt shows them.
    const req = required as string[];
    const rank = (k: string) => (req.includes(k) ? req.indexOf(k) : req.length);
    const keys = Object.keys(props).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    if (strict) {
      const missing = keys.filter((k) => !(required as string[]).includes(k));
      if (missing.length) throw new SchemaError(`strict mode requires every property to be required (missing: ${missing.join(', ')})`, at('required'));
    }
    // No declared properties and extra ones allowed: any object.
    if (keys.length === 0 && ap !== false) return this.node({ k: 'obj', props: null }, 2);
    return this.object(keys.map((k) => [k, this.schema((props as Record<string, unknown>)[k], at(`properties.${k}`), strict), (required as string[]).includes(k)]));
  }
}

function jsonText(v: unknown, path: string): string {
  if (v === undefined || typeof v === 'function' || typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v))) throw new SchemaError('not a JSON value', path);
  return JSON.stringify(v);
}
