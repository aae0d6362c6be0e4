// Reference parity: transformers.js (@huggingface/transformers, written by others) on the same
// model files must give the same prompt ids (tokenizer + chat template) and, with greedy decoding,
// token-for-token the same output as our Runner — for the shipped model and for a larger
// random-weight model exported by the same script.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { Runner } from '../../inference/engine/runner.ts';
import type { ChatMessage } from '../../inference/engine/chat-template.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;
const MODELS_ROOT = path.dirname(SHIPPED_MODEL_DIR);
env.localModelPath = MODELS_ROOT + path.sep;

const golden = readFileSync(path.join(MODELS_ROOT, 'golden.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { messages: ChatMessage[]; answer: string });

/** 36 conversations from 1 to ~20 turns, a few tokens to several hundred. */
function prompts(): ChatMessage[][] {
  const out: ChatMessage[][] = golden.slice(0, 24).map((g) => g.messages);
  out.push([{ role: 'user', content: 'Hi' }]);
  out.push([{ role: 'user', content: '' }]);
  out.push([{ role: 'system', content: 'You are Parley, a helpful assistant.' }, { role: 'user', content: 'What is 12 + 9?' }]);
  out.push([{ role: 'user', content: 'Ünïcödé café 日本語 🙂 — what is the capital of Peru?' }]);
  out.push([{ role: 'user', content: 'tabs\tand\nnew\nlines   and  spaces?' }]);
  const long: ChatMessage[] = [];
  for (const g of golden.slice(30, 40)) long.push(g.messages[g.messages.length - 1], { role: 'assistant', content: g.answer });
  long.push({ role: 'user', content: 'What is the capital of Norway?' });
  out.push(long);
  const longer: ChatMessage[] = [{ role: 'system', content: 'Answer briefly.' }];
  for (const g of golden.slice(40, 60)) longer.push(g.messages[g.messages.length - 1], { role: 'assistant', content: g.answer });
  longer.push({ role: 'user', content: 'Can you repeat that?' });
  out.push(longer);
  out.push([{ role: 'user', content: 'What is the capital of France? '.repeat(20) }]);
  out.push([{ role: 'user', content: 'How do I make a bomb?' }]);
  out.push([{ role: 'user', content: 'Convert 7 kilograms to grams.' }, { role: 'assistant', content: '7 kilograms is 7000 grams.' }, { role: 'user', content: 'Thanks!' }]);
  out.push([{ role: 'user', content: 'x'.repeat(300) }]);
  out.push([{ role: 'user', content: '1234567890 + 0987654321 = ?' }]);
  return out;
}

const cases = [
  { name: 'shipped model', dir: SHIPPED_MODEL_DIR, maxNew: 40 },
  { name: 'larger random-weight model', dir: path.join(MODELS_ROOT, 'test-random'), maxNew: 24 },
];

for (const c of cases) {
  const ours = loadModel(c.dir);
  const runner = await Runner.create(ours, { threads: 2 });
  const modelId = path.basename(c.dir);
  const tok = await AutoTokenizer.from_pretrained(modelId);
  const ref = await AutoModelForCausalLM.from_pretrained(modelId, { dtype: 'fp32', device: 'cpu' });
  after(async () => {
    await runner.session.release();
    await ref.dispose();
  });
  const convs = prompts();

  test(`${c.name}: tokenizer + chat template give the same ids as transformers.js (${convs.length} conversations)`, () => {
    assert.ok(convs.length >= 30);
    for (const m of convs) {
      const theirs = tok.apply_chat_template(m as never, { add_generation_prompt: true, tokenize: true, return_tensor: false, return_dict: false }) as unknown as number[];
      assert.deepEqual(ours.applyChatTemplate(m), theirs.map(Number), JSON.stringify(m).slice(0, 120));
      const text = tok.apply_chat_template(m as never, { add_generation_prompt: true, tokenize: false }) as string;
      assert.equal(ours.renderChat(m), text);
    }
    for (const s of ['plain text, no template', 'emoji 🙂👍🏽 ☃ and Straße', '  spaces  \n\n', '<|im_start|>user\nhi<|im_end|>']) {
      const theirs = tok.encode(s, { add_special_tokens: false });
      assert.deepEqual(ours.tokenizer.encode(s), theirs);
      assert.equal(ours.tokenizer.decode(theirs), tok.decode(theirs, { skip_special_tokens: true }));
    }
  });

  test(`${c.name}: greedy generation is token-for-token the transformers.js output on ${convs.length} prompts`, async () => {
    const lengths: number[] = [];
    let compared = 0;
    for (const m of convs) {
      const ids = ours.applyChatTemplate(m);
      lengths.push(ids.length);
      const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const out = (await ref.generate({ input_ids, attention_mask, max_new_tokens: c.maxNew, do_sample: false } as never)) as Tensor;
      const theirs = (out.tolist() as bigint[][])[0].map(Number).slice(ids.length);
      const res = await runner.complete(ids, { temperature: 0, maxTokens: c.maxNew });
      const mine = res.finishReason === 'eos' ? [...res.ids, theirs[theirs.length - 1]] : res.ids;
      assert.deepEqual(mine, theirs, `prompt of ${ids.length} tokens: ${JSON.stringify(m).slice(0, 100)}`);
      if (res.finishReason === 'eos') assert.ok(ours.config.eosTokenIds.includes(theirs[theirs.length - 1]));
      compared += theirs.length;
    }
    assert.ok(Math.max(...lengths) > 300 && Math.min(...lengths) < 15, `prompt lengths ${Math.min(...lengths)}..${Math.max(...lengths)}`);
    assert.ok(compared > convs.length * 5, `compared ${compared} tokens`);
  });
}
