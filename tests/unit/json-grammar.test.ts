// The constraint grammar (inference/engine/json-grammar.ts) on texts: what it accepts is JSON of
// the schema, what it refuses is not, and its minimal completion really completes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canEnd, Grammar, minClose, SchemaError, walk, type State } from '../../inference/engine/json-grammar.ts';
import type { Constraint } from '../../schemas/constraint.ts';

const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b c'] } },
    address: { anyOf: [{ type: 'null' }, { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'number' } }, required: ['city', 'zip'], additionalProperties: false }] },
    ok: { type: 'boolean' },
  },
  required: ['name', 'age', 'tags', 'address', 'ok'],
  additionalProperties: false,
};
const schemaC: Constraint = { type: 'json_schema', schema: person, strict: true };

function accepts(c: Constraint, text: string): boolean {
  const g = new Grammar(c);
  const end = walk([g.start()], text);
  return end.some((s) => s === null || canEnd(s));
}

test('accepts compact JSON of the schema, with one space after : and , allowed', () => {
  assert.ok(accepts(schemaC, '{"name":"Ann \\"A\\" \\u00e9","age":-12,"tags":["a","b c"],"address":null,"ok":true}'));
  assert.ok(accepts(schemaC, '{"name": "x", "age": 0, "tags": [], "address": {"city": "P", "zip": 7.5e-3}, "ok": false}'));
});

test('refuses what the schema does not allow', () => {
  const bad = [
    '{"age":1,"name":"x","tags":[],"address":null,"ok":true}', // order
    '{"name":"x","age":1.5,"tags":[],"address":null,"ok":true}', // integer
    '{"name":"x","age":1,"tags":["c"],"address":null,"ok":true}', // enum
    '{"name":"x","age":1,"tags":[],"address":null}', // required
    '{"name":"x","age":1,"tags":[],"address":null,"ok":true,"z":1}', // additional
    '{"name":"x","age":01,"tags":[],"address":null,"ok":true}', // leading zero
    '{"name":"x\n","age":1,"tags":[],"address":null,"ok":true}', // control char
    '{ "name":"x","age":1,"tags":[],"address":null,"ok":true}', // whitespace
    '{"name":"x","age":1,"tags":[],"address":null,"ok":true} ', // trailing text
  ];
  for (const t of bad) assert.equal(accepts(schemaC, t), false, t);
});

test('json_object takes any object and nothing else', () => {
  const c: Constraint = { type: 'json_object' };
  assert.ok(accepts(c, '{"a":[1,{"b":null}],"c":"d","e":{}}'));
  assert.ok(accepts(c, '{}'));
  assert.equal(accepts(c, '[1]'), false);
  assert.equal(accepts(c, '"x"'), false);
});

test('tool calls: the template envelope around {"name", "arguments"}; several only when parallel', () => {
  const tools = [
    { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false },
    { name: 'now', parameters: { type: 'object', properties: {} }, strict: false },
  ];
  const one = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
  const two = `${one}\n<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>`;
  assert.ok(accepts({ type: 'tool_calls', tools, parallel: false }, one));
  assert.equal(accepts({ type: 'tool_calls', tools, parallel: false }, two), false);
  assert.ok(accepts({ type: 'tool_calls', tools, parallel: true }, two));
  assert.equal(accepts({ type: 'tool_calls', tools, parallel: true }, one.replace('get_weather', 'get_weathe')), false);
  assert.equal(accepts({ type: 'tool_calls', tools, parallel: true }, one.replace('"city"', '"town"')), false);
});

test('tool calls, auto: any text, or text then a valid call; a call once begun must be valid', () => {
  const tools = [
    { name: 'calculator', parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] }, strict: false },
    { name: 'now', parameters: { type: 'object', properties: {} }, strict: false },
  ];
  const auto = (parallel: boolean): Constraint => ({ type: 'tool_calls', tools, parallel, auto: true });
  const call = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "7 * 2"}}\n</tool_call>';
  assert.ok(accepts(auto(false), ''));
  assert.ok(accepts(auto(false), 'Paris is the capital of France. <tool <b>bold</b> <tool_cal'));
  assert.ok(accepts(auto(false), call));
  assert.ok(accepts(auto(false), `Let me work it out.\n${call}`));
  assert.ok(accepts(auto(false), `<<tool_call${call.slice('<tool_call'.length)}`), 'a trigger after a false start');
  assert.equal(accepts(auto(false), call.replace('calculator', 'get__note')), false, 'a name not offered');
  assert.equal(accepts(auto(false), call.replace('"expression"', '"expr"')), false, 'an argument not in the schema');
  assert.equal(accepts(auto(false), `${call}\nmore text`), false, 'nothing after a call unless parallel');
  assert.ok(accepts(auto(true), `${call}\nand <tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>`));
  // A call begun is not complete: it cannot end there (EOS is masked), and minClose says how far the end is.
  const g = new Grammar(auto(false));
  const open = walk([g.start()], 'ok <tool_call>\n{"name": "n');
  assert.equal(open.some(canEnd), false);
  assert.equal(Math.min(...open.map(minClose)), 'ow","arguments":{}}\n</tool_call>'.length); // spaces are optional
  assert.equal(minClose(walk([g.start()], 'just text')[0]), 0);
});

test('no tool calls: any text, but never a `<tool_call>`, however it is spelt out', () => {
  const none: Constraint = { type: 'no_tool_calls' };
  assert.ok(accepts(none, ''));
  assert.ok(accepts(none, '5 kilometers is about 3.1 miles. <tool <b>bold</b> <tool_cal'));
  assert.equal(accepts(none, 'Let me check.\n<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>'), false);
  assert.equal(accepts(none, '<<tool_call>'), false, 'after a false start too');
  assert.equal(walk([new Grammar(none).start()], 'x <tool_call').length, 1); assert.equal(walk([new Grammar(none).start()], 'x <tool_call>').length, 0, 'the character completing the marker ends every path');
});

test('object keys follow `required`, then the optional ones alphabetically, however `properties` is written (jsonb reorders it)', () => {
  const props = { value: { type: 'number' }, from: { type: 'string' }, to: { type: 'string' }, note: { type: 'string' }, alpha: { type: 'string' } };
  const reordered = Object.fromEntries(Object.entries(props).reverse());
  for (const properties of [props, reordered]) {
    const c: Constraint = { type: 'json_schema', schema: { type: 'object', properties, required: ['value', 'from', 'to'] }, strict: false };
    assert.ok(accepts(c, '{"value": 2, "from": "hours", "to": "minutes"}'));
    assert.ok(accepts(c, '{"value": 2, "from": "h", "to": "m", "alpha": "a", "note": "n"}'));
    assert.equal(accepts(c, '{"to": "minutes", "from": "hours", "value": 2}'), false);
    assert.equal(accepts(c, '{"value": 2, "from": "h", "to": "m", "note": "n", "alpha": "a"}'), false);
  }
});

test('minClose: after any prefix, that many characters complete the value (greedy shortest path)', () => {
  const g = new Grammar(schemaC);
  const full = '{"name": "x", "age": 12, "tags": ["b c"], "address": {"city": "P", "zip": 1.5}, "ok": true}';
  for (let i = 0; i <= full.length; i++) {
    const states = walk([g.start()], full.slice(0, i));
    assert.ok(states.length > 0, full.slice(0, i));
    // the shortest completion exists: walk greedily to a state with minClose − 1, char by char
    let cur: State[] = states;
    let need = Math.min(...cur.map(minClose));
    const alphabet = Array.from({ length: 95 }, (_, k) => String.fromCharCode(32 + k));
    while (need > 0) {
      let advanced = false;
      for (const ch of alphabet) {
        const next = walk(cur, ch);
        if (next.length && Math.min(...next.map(minClose)) === need - 1) { cur = next; need--; advanced = true; break; }
      }
      assert.ok(advanced, `stuck after ${JSON.stringify(full.slice(0, i))} at ${need}`);
    }
    assert.ok(cur.some((s) => s === null || canEnd(s)));
  }
});

test('strict mode takes integer bounds the grammar keeps anyway (zodResponseFormat\'s safe-integer bounds), not others', () => {
  const safe = { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
  const c: Constraint = { type: 'json_schema', strict: true, schema: { type: 'object', properties: { a: safe, b: { anyOf: [safe, { type: 'null' }] } }, required: ['a', 'b'], additionalProperties: false } };
  assert.ok(accepts(c, '{"a":-999999999999999,"b":null}'));
  assert.equal(accepts(c, '{"a":1000000000000000,"b":null}'), false, 'no integer beyond the bounds');
  for (const bound of [{ minimum: 0 }, { maximum: 100 }, { minimum: -1e15 + 2 }]) {
    assert.throws(() => new Grammar({ type: 'json_schema', strict: true, schema: { type: 'object', properties: { a: { type: 'integer', ...bound } }, required: ['a'], additionalProperties: false } }), SchemaError, JSON.stringify(bound));
  }
  assert.throws(() => new Grammar({ type: 'json_schema', strict: true, schema: { type: 'object', properties: { a: { type: 'number', minimum: -Number.MAX_SAFE_INTEGER } }, required: ['a'], additionalProperties: false } }), SchemaError, 'a number may have an exponent');
});

test('unsupported or invalid schemas are refused with the path', () => {
  const bad = (schema: unknown, strict = true) => {
    try {
      new Grammar({ type: 'json_schema', schema: schema as Record<string, unknown>, strict });
      return null;
    } catch (e) {
      assert.ok(e instanceof SchemaError);
      return e.path;
    }
  };
  assert.equal(bad({ type: 'object', properties: { a: { $ref: '#/x' } }, required: ['a'], additionalProperties: false }), 'properties.a.$ref');
  assert.equal(bad({ type: 'object', properties: { a: { type: 'strin' } }, required: ['a'], additionalProperties: false }), 'properties.a.type');
  assert.equal(bad({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }), 'required');
  assert.equal(bad({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }), 'additionalProperties');
  assert.equal(bad({ type: 'string', pattern: 'x' }), 'pattern');
  assert.equal(bad({ type: 'string', pattern: 'x' }, false), null);
});
