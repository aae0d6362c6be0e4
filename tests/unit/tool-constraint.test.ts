// The call constraint of a turn offered server-side tools (inference/tools/constraint.ts), compiled
// by the engine's grammar as a worker compiles it: every built-in tool's schema is enforceable, text
// passes, and a call must name an offered tool with its arguments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canEnd, Grammar, walk } from '../../inference/engine/json-grammar.ts';
import { builtinTools, toolCallConstraint } from '../../inference/tools/index.ts';

const tools = builtinTools({ searchHistory: async () => [], searchDocuments: async () => [] });
const accepts = (offered: typeof tools, text: string) => {
  const g = new Grammar(toolCallConstraint(offered));
  return walk([g.start()], text).some((s) => s === null || canEnd(s));
};
const call = (name: string, args: object) => `<tool_call>\n${JSON.stringify({ name, arguments: args }).replace(/":/g, '": ').replace(/,"/g, ', "')}\n</tool_call>`;

test('every built-in tool compiles; none offered is text only: a call is refused', () => {
  assert.equal(tools.length, 5);
  assert.doesNotThrow(() => new Grammar(toolCallConstraint(tools)));
  assert.deepEqual(toolCallConstraint([]), { type: 'no_tool_calls' });
  assert.ok(accepts([], 'My name is Bob.'));
  assert.equal(accepts([], call('calculator', { expression: '1+1' })), false);
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
