// The shipped chat template with tools (Qwen2.5 / Hermes style): transformers.js
// `apply_chat_template(messages, { tools })` (written by others) and Parley's own renderer
// (inference/engine/chat-template.ts, @huggingface/jinja) must give, on the same tokenizer_config.json,
// exactly the text that inference/model/chat_format.py rendered for training
// (chat-template-fixtures.jsonl). Issue 18's tool-call parsing relies on this format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { loadModel, SHIPPED_MODEL_DIR, type ChatMessage, type ChatTool } from '../../inference/engine/model.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(SHIPPED_MODEL_DIR) + path.sep;

interface Fixture {
  messages: ChatMessage[];
  tools: ChatTool[];
  text: string;
}
const fixtures = readFileSync(path.join(SHIPPED_MODEL_DIR, '..', 'chat-template-fixtures.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Fixture);
const model = loadModel(SHIPPED_MODEL_DIR);
const reference = await AutoTokenizer.from_pretrained(path.basename(SHIPPED_MODEL_DIR));

const TOOLS_BLOCK_END =
  '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';

test('fixtures cover tools, tool calls, tool results, parallel calls and plain ChatML', () => {
  assert.ok(fixtures.length >= 15);
  assert.ok(fixtures.some((f) => f.tools.length > 0 && f.messages[0].role === 'system'));
  assert.ok(fixtures.some((f) => f.tools.length === 0));
  assert.ok(fixtures.some((f) => f.messages.some((m) => (m.tool_calls?.length ?? 0) > 1)));
  assert.ok(fixtures.some((f) => f.messages.some((m) => typeof m.tool_calls?.[0]?.function.arguments === 'string')));
});

test('Parley renderer = transformers.js apply_chat_template = the training renderer, on every fixture', () => {
  for (const f of fixtures) {
    const ours = model.renderChat(f.messages, { tools: f.tools });
    const theirs = reference.apply_chat_template(f.messages as never, {
      tools: f.tools.length ? (f.tools as never) : null,
      tokenize: false,
      add_generation_prompt: true,
    }) as string;
    assert.equal(ours, f.text, JSON.stringify(f.messages));
    assert.equal(theirs, f.text, JSON.stringify(f.messages));
  }
});

test('with tools: the system turn holds the Hermes tool block with one JSON signature per line', () => {
  const tools: ChatTool[] = [
    { type: 'function', function: { name: 'get_weather', description: 'Get the weather.', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    { type: 'function', function: { name: 'calculator', parameters: { type: 'object', properties: {} } } },
  ];
  const text = model.renderChat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather in Oslo?' }], { tools });
  assert.equal(
    text,
    '<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
      'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
      '{"type": "function", "function": {"name": "get_weather", "description": "Get the weather.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}\n' +
      '{"type": "function", "function": {"name": "calculator", "parameters": {"type": "object", "properties": {}}}}' +
      TOOLS_BLOCK_END +
      '<|im_start|>user\nWeather in Oslo?<|im_end|>\n<|im_start|>assistant\n',
  );
  // without a system message the block is the whole system turn; no tools (or none given) = plain ChatML
  assert.ok(model.renderChat([{ role: 'user', content: 'x' }], { tools }).startsWith('<|im_start|>system\n# Tools\n\n'));
  assert.equal(model.renderChat([{ role: 'user', content: 'x' }], { tools: [] }), '<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n');
});

test('tool calls render as <tool_call> JSON in the assistant turn, results as a user turn of <tool_response>s', () => {
  const text = model.renderChat(
    [
      { role: 'user', content: 'What is 17 plus 25?' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calculator', arguments: { expression: '17 + 25' } } }] },
      { role: 'tool', tool_call_id: 'c1', content: '42' },
    ],
    { addGenerationPrompt: true },
  );
  assert.equal(
    text,
    '<|im_start|>user\nWhat is 17 plus 25?<|im_end|>\n' +
      '<|im_start|>assistant\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 + 25"}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n<|im_start|>assistant\n',
  );
});

test('the tool tags and the fixed tool-block texts are single (non-special) tokens that decode back to text', () => {
  for (const tag of ['<tool_call>', '</tool_call>', '<tool_response>', '</tool_response>']) {
    const ids = model.tokenizer.encode(tag);
    assert.equal(ids.length, 1, tag);
    assert.ok(!model.tokenizer.specialIds.has(ids[0]), `${tag} is not special`);
    assert.equal(model.tokenizer.decode(ids), tag);
  }
  const call = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "17 + 25"}}\n</tool_call>';
  assert.equal(model.tokenizer.decode(model.tokenizer.encode(call)), call);
  const prompt = model.applyChatTemplate([{ role: 'user', content: 'x' }], { tools: [{ type: 'function', function: { name: 'f' } }] });
  assert.ok(prompt.length < 40, `the tool block costs a few tokens, not ~80 (${prompt.length})`);
});
