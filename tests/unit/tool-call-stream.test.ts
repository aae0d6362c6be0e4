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
  const { message: m, cut } = answerMessage(plan('auto'), 'gen-1', two);
  assert.equal(m.content, null);
  assert.equal(cut, false);
  assert.deepEqual(m.tool_calls!.map((c) => c.function.name), ['get_weather', 'add']);
  assert.deepEqual(answerMessage(plan('none'), 'gen-1', two).message, { content: two });
  assert.deepEqual(answerMessage(plan('auto'), 'gen-1', 'plain').message, { content: 'plain' });
});

// A call cut off by max_tokens or a stop string: the calls so far, the last with the arguments text
// generated so far, and never the template's markup as content (found with the official client).
test('a call cut off: its arguments so far, `cut`, no markup in content — streamed in any split and whole', () => {
  const constrained = (mode: ToolPlan['mode']): ToolPlan => ({
    ...plan(mode), constraint: { type: 'tool_calls', tools: [{ name: 'get_weather', parameters: {}, strict: false }, { name: 'add', parameters: {}, strict: false }], parallel: true, ...(mode === 'auto' ? { auto: true } : {}) },
  });
  const cases: [ToolPlan['mode'], string, string, [string, string][]][] = [
    // stop: ['Paris']
    ['required', '<tool_call>\n{"name": "get_weather", "arguments": {"city": "', '', [['get_weather', '{"city": "']]],
    // max_tokens inside the envelope's closing: the arguments are whole
    ['required', `${one}\n<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool`, '', [['get_weather', '{"city": "Paris }\\n</tool_call>"}'], ['add', '{"a": 1, "b": 2}']]],
    // before the name: nothing to send
    ['required', '<tool_call>\n{"na', '', []],
    ['auto', 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par', 'Let me check.\n', [['get_weather', '{"city": "Par']]],
    ['auto', `${one}\n<tool_call>\n{"name": "add", "arguments": {"a"`, '', [['get_weather', '{"city": "Paris }\\n</tool_call>"}'], ['add', '{"a"']]],
    ['auto', '<tool_call>\n{"name": "get_weather", "arguments": {"city": "', '', [['get_weather', '{"city": "']]],
    ['auto', 'Hi <tool_call>\n{"', 'Hi ', []],
    ['auto', `${one}\n<tool_`, '', [['get_weather', '{"city": "Paris }\\n</tool_call>"}']]],
  ];
  for (const [mode, text, content, calls] of cases) {
    for (const size of [1, 3, 7, 1000]) {
      const r = assemble(constrained(mode), text, size);
      assert.deepEqual({ content: r.content, calls: r.calls.map((c) => [c.name, c.args]) }, { content, calls }, `${mode} ${JSON.stringify(text)} in pieces of ${size}`);
    }
    const whole = answerMessage(constrained(mode), 'gen-1', text);
    assert.ok(!(whole.message.content ?? '').includes('<tool'), JSON.stringify(whole));
    assert.deepEqual(whole.message.tool_calls?.map((c) => [c.function.name, c.function.arguments]) ?? [], calls);
    if (calls.length === 0) assert.equal(whole.message.content, content);
  }
  // the last call cut in its arguments is `cut` (its finish reason stays length or stop); whole calls are not
  assert.equal(answerMessage(constrained('required'), 'gen-1', cases[0]![1]).cut, true);
  assert.equal(answerMessage(constrained('required'), 'gen-1', two).cut, false);
  assert.equal(answerMessage(constrained('auto'), 'gen-1', two).cut, false);
  // without the tool-call constraint (auto with a response_format) a `<tool_call>` is only text
  assert.deepEqual(assemble(plan('auto'), '{"a": "<tool_call>\n{"}', 2), { content: '{"a": "<tool_call>\n{"}', calls: [] });
});
