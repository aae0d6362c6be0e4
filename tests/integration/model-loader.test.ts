// Loading the shipped model and rejecting folders the engine cannot run, with clear messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel, resolveModelDir, SHIPPED_MODEL_DIR, ModelLoadError } from '../../inference/engine/model.ts';
import { readModelConfig } from '../../inference/engine/model-config.ts';
import { ModelSession } from '../../inference/engine/model-session.ts';

const shippedConfig = JSON.parse(readFileSync(path.join(SHIPPED_MODEL_DIR, 'config.json'), 'utf8'));

/** a copy of the shipped folder (onnx symlinked), with edits */
function variant(edit: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-model-'));
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    cpSync(path.join(SHIPPED_MODEL_DIR, f), path.join(dir, f));
  }
  mkdirSync(path.join(dir, 'onnx'));
  symlinkSync(path.join(SHIPPED_MODEL_DIR, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
  edit(dir);
  return dir;
}
const editConfig = (patch: Record<string, unknown>) => (dir: string) =>
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...shippedConfig, ...patch }));

test('the shipped model loads: config, tokenizer, chat template, session', async () => {
  const m = loadModel(SHIPPED_MODEL_DIR);
  assert.equal(m.config.modelType, 'llama');
  assert.equal(m.config.numLayers, shippedConfig.num_hidden_layers);
  assert.equal(m.config.numKvHeads, shippedConfig.num_key_value_heads);
  assert.ok(m.config.numKvHeads < m.config.numHeads, 'grouped-query attention');
  assert.equal(m.config.headDim, shippedConfig.head_dim);
  assert.ok(m.config.eosTokenIds.includes(2));
  assert.ok(m.config.contextLength >= 1024);
  assert.ok(m.config.onnxPath.endsWith(path.join('onnx', 'model.onnx')));
  const s = await ModelSession.create(m.config, { threads: 1 });
  assert.equal(s.hasPositionIds, true);
  await s.release();
});

test('MODEL_DIR selects the folder; the shipped model is the default', () => {
  assert.equal(resolveModelDir({}), SHIPPED_MODEL_DIR);
  assert.equal(resolveModelDir({ MODEL_DIR: '/x/y' }), '/x/y');
  assert.equal(resolveModelDir({ MODEL_DIR: '  ' }), SHIPPED_MODEL_DIR);
});

test('a model.onnx at the folder root (Optimum layout) is found too', () => {
  const dir = variant((d) => {
    rmSync(path.join(d, 'onnx'), { recursive: true });
    symlinkSync(path.join(SHIPPED_MODEL_DIR, 'onnx', 'model.onnx'), path.join(d, 'model.onnx'));
  });
  assert.equal(readModelConfig(dir).onnxPath, path.join(dir, 'model.onnx'));
  rmSync(dir, { recursive: true });
});

const bad: [string, (d: string) => void, RegExp][] = [
  ['no config.json', (d) => rmSync(path.join(d, 'config.json')), /missing config\.json/],
  ['unsupported model_type', editConfig({ model_type: 'bert' }), /model_type "bert" is not supported/],
  ['no layer count', editConfig({ num_hidden_layers: undefined }), /missing num_hidden_layers/],
  ['heads not a multiple of kv heads', editConfig({ num_key_value_heads: 4 }), /not a multiple of num_key_value_heads/],
  ['no onnx file', (d) => rmSync(path.join(d, 'onnx'), { recursive: true }), /missing the ONNX decoder/],
  ['no tokenizer.json', (d) => rmSync(path.join(d, 'tokenizer.json')), /missing tokenizer\.json/],
  ['no chat template', (d) => {
    const tc = JSON.parse(readFileSync(path.join(d, 'tokenizer_config.json'), 'utf8'));
    delete tc.chat_template;
    writeFileSync(path.join(d, 'tokenizer_config.json'), JSON.stringify(tc));
  }, /no chat template/],
  ['no eos id', (d) => {
    editConfig({ eos_token_id: undefined })(d);
    writeFileSync(path.join(d, 'generation_config.json'), '{}');
  }, /no eos_token_id/],
];
for (const [name, edit, message] of bad) {
  test(`rejected at load: ${name}`, () => {
    const dir = variant(edit);
    assert.throws(() => loadModel(dir), (e: unknown) => e instanceof ModelLoadError && message.test((e as Error).message));
    rmSync(dir, { recursive: true });
  });
}

test('rejected at session start: config with more layers than the ONNX file names the missing inputs', async () => {
  const dir = variant(editConfig({ num_hidden_layers: shippedConfig.num_hidden_layers + 1 }));
  const m = loadModel(dir);
  const n = shippedConfig.num_hidden_layers;
  await assert.rejects(ModelSession.create(m.config, { threads: 1 }), (e: unknown) =>
    e instanceof ModelLoadError && (e as Error).message.includes(`input past_key_values.${n}.key`),
  );
  rmSync(dir, { recursive: true });
});

test('rejected at session start: KV head count that does not match the ONNX file', async () => {
  const dir = variant(editConfig({ num_key_value_heads: 1 }));
  const m = loadModel(dir);
  await assert.rejects(ModelSession.create(m.config, { threads: 1 }), /num_key_value_heads=1/);
  rmSync(dir, { recursive: true });
});

test('rejected at session start: a file that is not ONNX', async () => {
  const dir = variant((d) => {
    rmSync(path.join(d, 'onnx', 'model.onnx'));
    writeFileSync(path.join(d, 'onnx', 'model.onnx'), 'not a model');
  });
  await assert.rejects(ModelSession.create(loadModel(dir).config, { threads: 1 }), /onnxruntime cannot open/);
  rmSync(dir, { recursive: true });
});
