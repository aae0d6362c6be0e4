// The call constraint of a turn offered server-side tools (inference/tools/constraint.ts), compiled
// by the engine's grammar as a worker compiles it: every built-in tool's schema is enforceable, text
// passes, and a call must name an offered tool with its arguments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canEnd, Grammar, walk } from '../../inference/engine/json-grammar.ts';
import { builtinTools, toolCallConstraint } from '../../inference/tools/index.ts';

const tools = builtinTools({ searchHistory: async () => [], searchDocuments: async () => [] });
const accepts = (offered: typeof tools, text: string) => {
  const g = new Grammar(toolCallConstraint(offered)!);
  return walk([g.start()], text).some((s) => s === null || canEnd(s));
};
const call = (name: string, args: object) => `<tool_call>\n${JSON.stringify({ name, arguments: args }).replace(/":/g, '": ').replace(/,"/g, ', "')}\n</tool_call>`;

test('every built-in tool compiles; none offered is no constraint', () => {
  assert.equal(tools.length, 5);
  assert.doesNotThrow(() => new Grammar(toolCallConstraint(tools)!));
  assert.equal(toolCallConstraint([]), null);
});

test('text, or calls of the offered tools with their arguments (in the order of `required`)', () => {
  const calc = tools.filter((t) => t.name === 'calculator');
  assert.ok(accepts(calc, '17 + 25 = 42.'));
  assert.ok(accepts(calc, call('calculator', { expression: '7 * 2' })));
  assert.equal(accepts(calc, call('get__note', { expression: '7 * 2' })), false);
  assert.equal(accepts(calc, call('convert_units', { value: 2, from: 'hours', to: 'minutes' })), false, 'not offered');
  assert.ok(accepts(tools, call('convert_units', { value: 2, from: 'hours', to: 'minutes' })));
  assert.equal(accepts(tools, call('convert_units', { to: 'minutes', from: 'hours', value: 2 })), false);
  assert.ok(accepts(tools, `${call('current_datetime', {})}\n${call('calculator', { expression: '1+1' })}`), 'several calls in a turn');
});

test('grounded in the message: a conversion takes only a pair of different units and a number the message names (grounding.ts)', () => {
  const both = (message: string, text: string) => walk([new Grammar(toolCallConstraint(tools, false, message)!).start()], text).some((s) => s === null || canEnd(s));
  const convert = (value: unknown, from: string, to: string) => call('convert_units', { value, from, to });
  assert.ok(both('Convert 5 km to miles', convert(5, 'km', 'miles')));
  assert.equal(both('Convert 5 km to miles', convert(5, 'gal', 'miles')), false, 'a unit the message does not name');
  assert.equal(both('Convert 5 km to miles', convert(6, 'km', 'miles')), false, 'a number it does not hold');
  assert.equal(both('Convert 5 km to miles', convert('5', 'km', 'miles')), false, 'the value is a number');
  assert.ok(both('Convert 5 km to miles', convert(5, 'miles', 'km')), 'the direction is the model\'s');
  assert.equal(both('Convert 5 km to miles', convert(5, 'km', 'km')), false, 'not a unit into itself');
  assert.ok(both('How many grams are in a kilogram?', convert(1, 'kilogram', 'grams')), 'no number: one of the unit');
  assert.equal(both('How many grams are in a kilogram?', convert(1, 'grams', 'grams')), false);
  assert.ok(both('I ran 5 km in 30 minutes', convert(5, 'km', 'miles')), 'units that do not convert: not narrowed');
  assert.equal(both('How many minutes are in an hour?', convert(', ', 'hour', 'minutes')), false);
  // Not pinned down by the message: left as the tool's schema has it.
  assert.ok(both('Convert five kilometers to miles', convert(5, 'kilometers', 'miles')), 'numbers in words');
  assert.ok(both('Convert 5 km to imperial units', convert(5, 'km', 'mi')), 'one unit only');
  assert.ok(both('Convert 5 km to miles', `I will convert it. ${call('calculator', { expression: '5 * 0.621371' })}`), 'other tools as before');
  assert.ok(both('Convert 5 km to miles', '5 km is about 3.1 miles.'), 'text as before');
});
