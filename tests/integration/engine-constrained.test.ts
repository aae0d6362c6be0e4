// Constrained decoding in the engine on the random-weight model at temperature 1: every output is
// JSON valid for the schema (checked with zod's JSON-Schema import, independent of the grammar),
// ends as soon as the JSON is complete, and fits max tokens; unconstrained rows of the same batch
// are untouched; a bad schema is a clear error.
import { RANDOM_MODEL_DIR } from '../support/models.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createEngine, InvalidRequestError, type EngineResult } from '../../inference/engine/engine.ts';
import type { Constraint } from '../../schemas/constraint.ts';

const engine = await createEngine({ modelDir: RANDOM_MODEL_DIR, maxSeqs: 16, kvCacheTokens: 8192, threads: 1 });
after(() => engine.close());
const prompt = engine.model.applyChatTemplate([{ role: 'user', content: 'Give me a person as JSON.' }]);

export const personSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string', enum: ['admin', 'user', 'guest'] } },
    address: {
      anyOf: [
        { type: 'null' },
        { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'number' } }, required: ['city', 'zip'], additionalProperties: false },
      ],
    },
    active: { type: 'boolean' },
  },
  required: ['name', 'age', 'tags', 'address', 'active'],
  additionalProperties: false,
};
const validator = z.fromJSONSchema(personSchema as Parameters<typeof z.fromJSONSchema>[0]);

async function run(params: Record<string, unknown>): Promise<{ text: string; result: EngineResult }> {
  const h = engine.submit({ requestId: 'c', promptIds: prompt, params });
  let text = '';
  for await (const t of h) text += t.text;
  return { text, result: await h.result };
}

test('json_schema: 40 sampled outputs at temperature 1 all parse and validate, ending when complete', async () => {
  const constraint: Constraint = { type: 'json_schema', schema: personSchema, strict: true };
  const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => run({ temperature: 1, seed: i, maxTokens: 120, constraint })));
  for (const { text, result } of outs) {
    const value = JSON.parse(text);
    assert.ok(validator.safeParse(value).success, text);
    assert.equal(result.finishReason, 'stop', text);
    assert.ok(result.completionTokens <= 120);
  }
});

test('max tokens just above the minimum still closes the JSON', async () => {
  const constraint: Constraint = { type: 'json_schema', schema: personSchema, strict: true };
  for (let seed = 0; seed < 5; seed++) {
    const { text } = await run({ temperature: 1, seed, maxTokens: 60, constraint });
    assert.ok(validator.safeParse(JSON.parse(text)).success, text);
  }
});

test('json_object: any object; unconstrained rows in the same batch are unchanged', async () => {
  const plain = await run({ temperature: 0, maxTokens: 20 });
  const [a, b] = await Promise.all([
    run({ temperature: 1, seed: 3, maxTokens: 80, constraint: { type: 'json_object' } }),
    run({ temperature: 0, maxTokens: 20 }),
  ]);
  const v = JSON.parse(a.text);
  assert.ok(v && typeof v === 'object' && !Array.isArray(v), a.text);
  assert.equal(b.text, plain.text);
});

test('tool calls: the envelope with a valid call of one of the tools', async () => {
  const tools = [
    { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city', 'unit'] }, strict: false },
    { name: 'add', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] }, strict: false },
  ];
  for (let seed = 0; seed < 10; seed++) {
    const { text, result } = await run({ temperature: 1, seed, maxTokens: 100, constraint: { type: 'tool_calls', tools, parallel: false } });
    const m = /^<tool_call>\n(.*)\n<\/tool_call>$/s.exec(text);
    assert.ok(m, text);
    const call = JSON.parse(m[1]);
    assert.ok(['get_weather', 'add'].includes(call.name));
    assert.equal(typeof call.arguments, 'object');
    assert.equal(result.finishReason, 'stop');
  }
});

test('parallel tool calls cut by max tokens end whole: a closed call at the last token is a stop, not a cut', async () => {
  // Another call may follow a closed one, so the budget rule lets the last call close exactly at
  // max tokens; that output is whole (OpenAI's finish_reason tool_calls), not "length".
  const tools = [{ name: 'add', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] }, strict: false }];
  const outs = await Promise.all(Array.from({ length: 60 }, (_, seed) => run({ temperature: 1, seed, maxTokens: 70 + (seed % 7), constraint: { type: 'tool_calls', tools, parallel: true } })));
  for (const { text, result } of outs) {
    assert.match(text, /^(<tool_call>\n\{.*\}\n<\/tool_call>\s*)+$/s, text);
    assert.notEqual(result.finishReason, 'length', text);
  }
});

test('an unsupported schema is an InvalidRequestError naming the keyword', async () => {
  const h = engine.submit({ requestId: 'bad', promptIds: prompt, params: { constraint: { type: 'json_schema', schema: { type: 'string', pattern: 'a+' }, strict: true } } });
  await assert.rejects(h.result, (e: Error) => e instanceof InvalidRequestError && /pattern/.test(e.message));
});
