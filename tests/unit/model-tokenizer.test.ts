// The shipped tokenizer through @huggingface/tokenizers must agree with the Python tokenizer that
// encoded the training corpus (fixtures written by inference/model/train.py), and stream UTF-8 safely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { IncrementalDecoder } from '../../inference/engine/tokenizer.ts';

const model = loadModel(SHIPPED_MODEL_DIR);
const { tokenizer } = model;
const fixtures = readFileSync(path.join(SHIPPED_MODEL_DIR, '..', 'tokenizer-fixtures.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { text: string; ids: number[] });

test('JS tokenizer = Python training tokenizer on every fixture (corpus, golden prompts, odd text)', () => {
  assert.ok(fixtures.length > 100);
  for (const f of fixtures) assert.deepEqual(tokenizer.encode(f.text), f.ids, JSON.stringify(f.text));
});

test('decode(encode(text)) is the text (special tokens kept when asked)', () => {
  for (const f of fixtures) {
    assert.equal(tokenizer.decode(tokenizer.encode(f.text), { skipSpecialTokens: false }), f.text);
  }
  assert.equal(tokenizer.decode(tokenizer.encode('<|im_start|>user\nhi<|im_end|>')), 'user\nhi');
});

test('special tokens are single ids', () => {
  assert.deepEqual(tokenizer.encode('<|im_start|><|im_end|><|endoftext|>'), [1, 2, 0]);
  assert.ok(tokenizer.specialIds.has(2));
  assert.equal(tokenizer.specialToken('eos_token'), '<|im_end|>');
});

test('chat template renders ChatML with the generation prompt', () => {
  const text = model.renderChat([
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ]);
  assert.equal(text, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  assert.equal(model.renderChat([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: false }), '<|im_start|>user\nHi<|im_end|>\n');
  assert.deepEqual(model.applyChatTemplate([{ role: 'user', content: 'Hi' }]), tokenizer.encode(text.slice(text.indexOf('<|im_start|>user'))));
});

test('incremental decoding: deltas concatenate to the full text and never hold half a character', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
      const ids = tokenizer.encode(s);
      const dec = new IncrementalDecoder(tokenizer);
      let out = '';
      for (const id of ids) {
        const d = dec.push(id);
        assert.ok(!d.includes('\uFFFD') || s.includes('\uFFFD'), `delta with a replacement char for ${JSON.stringify(s)}`);
        out += d;
      }
      out += dec.flush();
      assert.equal(out, tokenizer.decode(ids));
      assert.equal(out, s);
    }),
    { numRuns: 300 },
  );
});

test('incremental decoding holds a multi-byte character until its last byte arrives', () => {
  const ids = tokenizer.encode('a😀');
  assert.ok(ids.length >= 3, 'the emoji is several byte tokens in this vocabulary');
  const dec = new IncrementalDecoder(tokenizer);
  const deltas = ids.map((id) => dec.push(id));
  assert.equal(deltas[0], 'a');
  assert.ok(deltas.slice(1, -1).every((d) => d === ''));
  assert.equal(deltas[deltas.length - 1], '😀');
});
