// Reference parity: transformers.js `pipeline('feature-extraction')` (written by others) on the same
// model files must give the same sentence vectors as our embedder (worker thread, batched):
// cosine ≥ 0.9999 for each of 50 texts — for the shipped model and for any folder named by
// EMBEDDING_MODEL_DIR_PARITY (e.g. a MiniLM Optimum export, when one is on the machine).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { createEmbedder, cosine, SHIPPED_EMBEDDING_MODEL_DIR, readEmbeddingModel } from '../../inference/embeddings/index.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;

function texts(): string[] {
  const out = [
    'Hello', '', 'Where does Kalo live?', 'The Zartor router costs 120 dollars.', 'How do I reset my password?',
    'Ünïcödé café 日本語 🙂', 'tabs\tand\nnew lines   and  spaces', 'x'.repeat(300), 'word '.repeat(200),
    'The capital of France is Paris.', 'What is 12 + 9?', '1234567890', '!!!???...', 'ALL CAPS SENTENCE HERE',
  ];
  const words = ['river', 'festival', 'price', 'weight', 'teacher', 'drone', 'Norway', 'chess', 'blue', 'cancel', 'subscription', 'the', 'of', 'is'];
  for (let i = 0; out.length < 50; i++) out.push(Array.from({ length: 3 + (i % 17) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' ') + '.');
  return out;
}

const dirs = [SHIPPED_EMBEDDING_MODEL_DIR, ...(process.env.EMBEDDING_MODEL_DIR_PARITY ? [process.env.EMBEDDING_MODEL_DIR_PARITY] : [])];

for (const dir of dirs) {
  test(`embeddings match transformers.js feature-extraction: ${path.basename(dir)}`, async () => {
    const files = readEmbeddingModel(dir);
    env.localModelPath = path.dirname(dir) + path.sep;
    const subfolder = files.onnxPath.endsWith(path.join('onnx', 'model.onnx')) ? 'onnx' : '';
    const extractor = await pipeline('feature-extraction', path.basename(dir), { dtype: 'fp32', device: 'cpu', subfolder });
    const embedder = await createEmbedder({ dir, maxBatch: 16 });
    after(() => embedder.close());
    const input = texts();
    const ours = await embedder.embed(input);
    let worst = 1;
    for (let i = 0; i < input.length; i++) {
      const ref = await extractor(input[i], { pooling: 'mean', normalize: true });
      const c = cosine(ours.vectors[i], ref.data as Float32Array);
      worst = Math.min(worst, c);
      assert.ok(c >= 0.9999, `text ${i} ${JSON.stringify(input[i].slice(0, 40))}: cosine ${c}`);
    }
    assert.equal(ours.vectors.length, 50);
    assert.equal(ours.vectors[0].length, files.dimensions);
    // batching must not change a vector: the same text alone and inside a padded batch
    const alone = await embedder.embed([input[2]]);
    assert.ok(cosine(alone.vectors[0], ours.vectors[2]) >= 0.9999);
    console.log(`worst cosine over 50 texts: ${worst.toFixed(7)}`);
  });
}

test('a folder that is not a BERT-family export is refused with a clear message', async () => {
  await assert.rejects(createEmbedder({ dir: path.resolve('inference/model/parley-tiny') }), /not a BERT-family encoder/);
});
