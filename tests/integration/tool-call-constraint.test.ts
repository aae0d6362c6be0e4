// The auto tool-call constraint on the shipped model, through the Runner (which applies constraints
// as EngineCore.step does): text the model writes anyway is unchanged, a call it begins names an
// offered tool, and a call may begin with fewer tokens left than its shortest form has characters
// (the budget rule counts a character per token; in free text it does not apply).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { Runner } from '../../inference/engine/runner.ts';
import { builtinTools, toolCallConstraint, toolFunctions } from '../../inference/tools/index.ts';

const model = loadModel(SHIPPED_MODEL_DIR);
const tools = builtinTools({ searchHistory: async () => [] });
let runner: Runner;
before(async () => { runner = await Runner.create(model, { threads: 2 }); });
after(async () => runner.session.release());

async function both(question: string, names: string[], maxTokens: number) {
  const offered = tools.filter((t) => names.includes(t.name));
  const prompt = model.applyChatTemplate([{ role: 'user', content: question }], { tools: toolFunctions(offered).map((f) => ({ type: 'function', function: f })) });
  const free = await runner.complete(prompt, { temperature: 0, maxTokens });
  const constrained = await runner.complete(prompt, { temperature: 0, maxTokens, constraint: toolCallConstraint(offered) });
  return { free: free.text, constrained: constrained.text };
}

test('a call the model begins names an offered tool (unconstrained it names one that is not offered)', async () => {
  const r = await both('What do you get for 7 * 2?', ['calculator'], 96);
  // unconstrained: stage 7b wrote "get__note", stage 10 "get_itchen"
  assert.match(r.free, /^<tool_call>\n\{"name": "(?!calculator")/);
  assert.equal(r.constrained, '<tool_call>\n{"name": "calculator", "arguments": {"expression": "7 * 2"}}\n</tool_call>');
});

test('text the model writes anyway is unchanged', async () => {
  for (const q of ['What is the capital of France?', 'Tell me a joke about cats.']) {
    const r = await both(q, ['calculator'], 64);
    assert.equal(r.constrained, r.free, q);
    assert.doesNotMatch(r.constrained, /<tool_call>/, q);
  }
});

test('with 40 tokens left (fewer than the call has characters) the call still begins and closes', async () => {
  const r = await both('What do you get for 7 * 2?', ['calculator'], 40);
  const m = /^<tool_call>\n(.*)\n<\/tool_call>$/s.exec(r.constrained);
  assert.ok(m, r.constrained);
  assert.deepEqual(JSON.parse(m[1]), { name: 'calculator', arguments: { expression: '7 * 2' } });
});
