// Reading tool calls out of an answer as it streams (read-api/openai/tool-call-stream.ts): whatever
// the split of the text into deltas, the deltas assemble to the same content and calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerMessage, ToolCallStream, type Delta } from '../../read-api/openai/tool-call-stream.ts';
import type { ToolPlan } from '../../read-api/openai/tools.ts';

const plan = (mode: ToolPlan['mode'], parallel = true): ToolPlan => ({ mode, names: ['get_weather', 'add'], parallel, systemBlock: '', constraint: null });
const one = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris }\\n</tool_call>"}}\n</tool_call>';
const two = `${one}\n<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>`;

/** the deltas of `text` pushed in pieces of `size`, assembled as the openai client does */
function assemble(p: ToolPlan, text: string, size: number) {
  const s = new ToolCallStream(p, 'gen-1');
  const deltas: Delta[] = [];
  for (let i = 0; i < text.length; i += size) deltas.push(...s.push(text.slice(i, i + size)));
  deltas.push(...s.end());
  let content = '';
  const calls: { id: string; name: string; args: string }[] = [];
  for (const d of deltas) {
    if ('content' in d) content += d.content;
    else for (const c of d.tool_calls as { index: number; id?: string; function: { name?: string; arguments: string } }[]) {
      if (c.id) calls[c.index] = { id: c.id, name: c.function.name!, args: '' };
      calls[c.index]!.args += c.function.arguments;
    }
  }
  return { content, calls };
}

test('constrained (required): the calls, whatever the split, arguments exactly as generated', () => {
  for (const size of [1, 2, 5, 13, 1000]) {
    const { content, calls } = assemble(plan('required'), two, size);
    assert.equal(content, '');
    assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.args)]), [['get_weather', { city: 'Paris }\n</tool_call>' }], ['add', { a: 1, b: 2 }]]);
    assert.notEqual(calls[0]!.id, calls[1]!.id);
  }
});

test('auto: text streams as content; a valid call after it becomes tool_calls; an invalid one stays text', () => {
  for (const size of [1, 3, 7, 1000]) {
    assert.deepEqual(assemble(plan('auto'), 'Hello <b>there</b>', size), { content: 'Hello <b>there</b>', calls: [] });
    const r = assemble(plan('auto'), `Let me look.\n${two}`, size);
    assert.equal(r.content, 'Let me look.\n');
    assert.deepEqual(r.calls.map((c) => c.name), ['get_weather', 'add']);
    const bad = `${one.replace('get_weather', 'unknown')}`;
    assert.deepEqual(assemble(plan('auto'), bad, size), { content: bad, calls: [] });
    const broken = '<tool_call>\n{"name": "add", "arguments": {"a": 1,}}\n</tool_call>';
    assert.deepEqual(assemble(plan('auto'), broken, size), { content: broken, calls: [] });
  }
  assert.equal(assemble(plan('auto', false), two, 4).calls.length, 1);
});

test('auto: a </tool_call> inside an argument string does not end the call', () => {
  const call = '<tool_call>\n{"name": "add", "arguments": {"a": "x</tool_call></tool_call> {"}}\n</tool_call>';
  for (const size of [1, 5, 1000]) {
    const r = assemble(plan('auto'), `Sure.\n${call}`, size);
    assert.equal(r.content, 'Sure.\n');
    assert.deepEqual(r.calls.map((c) => [c.name, JSON.parse(c.args)]), [['add', { a: 'x</tool_call></tool_call> {' }]]);
  }
});

test('not streamed: message.content and tool_calls', () => {
  const m = answerMessage(plan('auto'), 'gen-1', two);
  assert.equal(m.content, null);
  assert.deepEqual(m.tool_calls!.map((c) => c.function.name), ['get_weather', 'add']);
  assert.deepEqual(answerMessage(plan('none'), 'gen-1', two), { content: two });
  assert.deepEqual(answerMessage(plan('auto'), 'gen-1', 'plain'), { content: 'plain' });
});
