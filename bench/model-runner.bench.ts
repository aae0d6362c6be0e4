// `npm run bench model-runner`: the single-sequence runner on the shipped model and on the larger
// random-weight test model (inference/model/test-random), with transformers.js on the same files
// as a reference point:
//   1. prefill: one forward over a prompt of N tokens (median of REPS)
//   2. decode: one-token forwards on top of a KV cache (tokens/s over DECODE steps)
//   3. end to end: greedy generation on golden prompts, our Runner vs transformers.js generate
// Results: bench/results/model-runner.{json,md}. The machine is shared: compare ratios.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { loadModel, SHIPPED_MODEL_DIR } from '../inference/engine/model.ts';
import { Runner } from '../inference/engine/runner.ts';
import type { ChatMessage } from '../inference/engine/chat-template.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPS = 5;
const DECODE = 64;
const PREFILL = [16, 128, 512];
const E2E_PROMPTS = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface ModelResult {
  name: string;
  parameters: number | null;
  prefillMs: Record<string, number>;
  decodeTokensPerSec: number;
  e2e: { tokens: number; oursTokensPerSec: number; referenceTokensPerSec: number; identical: boolean };
}

export async function run(): Promise<void> {
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(SHIPPED_MODEL_DIR) + path.sep;
  const golden = readFileSync(path.join(path.dirname(SHIPPED_MODEL_DIR), 'golden.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, E2E_PROMPTS)
    .map((l) => (JSON.parse(l) as { messages: ChatMessage[] }).messages);
  const results: ModelResult[] = [];
  for (const dir of [SHIPPED_MODEL_DIR, path.join(path.dirname(SHIPPED_MODEL_DIR), 'test-random')]) {
    const model = loadModel(dir);
    const runner = await Runner.create(model);
    const s = runner.session;
    const prefillMs: Record<string, number> = {};
    for (const n of PREFILL) {
      const ids = Array.from({ length: n }, (_, i) => 3 + (i % 500));
      await s.forward({ inputIds: ids, batch: 1, seqLen: n }); // warm-up
      const times: number[] = [];
      for (let r = 0; r < REPS; r++) {
        const t = performance.now();
        await s.forward({ inputIds: ids, batch: 1, seqLen: n });
        times.push(performance.now() - t);
      }
      prefillMs[String(n)] = median(times);
    }
    // decode on top of a 128-token cache
    const first = await s.forward({ inputIds: Array.from({ length: 128 }, (_, i) => 3 + i), batch: 1, seqLen: 128 });
    let past = first.present;
    const t0 = performance.now();
    for (let i = 0; i < DECODE; i++) past = (await s.forward({ inputIds: [5 + i], batch: 1, seqLen: 1, past })).present;
    const decodeTokensPerSec = DECODE / ((performance.now() - t0) / 1000);

    const ref = await AutoModelForCausalLM.from_pretrained(path.basename(dir), { dtype: 'fp32', device: 'cpu' });
    let tokens = 0;
    let oursMs = 0;
    let refMs = 0;
    let identical = true;
    for (const m of golden) {
      const ids = model.applyChatTemplate(m);
      let t = performance.now();
      const res = await runner.complete(ids, { temperature: 0, maxTokens: 32 });
      oursMs += performance.now() - t;
      const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      t = performance.now();
      const out = (await ref.generate({ input_ids, attention_mask, max_new_tokens: 32, do_sample: false } as never)) as Tensor;
      refMs += performance.now() - t;
      const theirs = (out.tolist() as bigint[][])[0].map(Number).slice(ids.length);
      const mine = res.finishReason === 'eos' ? [...res.ids, theirs[theirs.length - 1]] : res.ids;
      if (mine.join() !== theirs.join()) identical = false;
      tokens += theirs.length;
    }
    await ref.dispose();
    await s.release();
    const parley = model.config.raw.parley as { parameters?: number } | undefined;
    results.push({
      name: model.config.name,
      parameters: parley?.parameters ?? null,
      prefillMs,
      decodeTokensPerSec,
      e2e: { tokens, oursTokensPerSec: tokens / (oursMs / 1000), referenceTokensPerSec: tokens / (refMs / 1000), identical },
    });
    console.log(JSON.stringify(results[results.length - 1]));
  }
  const meta = { date: new Date().toISOString(), cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, node: process.version };
  const outDir = path.join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'model-runner.json'), JSON.stringify({ ...meta, results }, null, 2));
  const lines = [
    '# Model runner benchmark (single sequence, onnxruntime-node CPU)',
    '',
    `${meta.date} · ${meta.cpus} · Node ${meta.node} · intra-op threads = cores · median of ${REPS} for prefill`,
    '',
    `| model | params | prefill ${PREFILL.join(' / ')} tok (ms) | decode tok/s (128-token cache) | greedy e2e ours tok/s | transformers.js tok/s | same tokens |`,
    '|---|---:|---:|---:|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.parameters?.toLocaleString('en-US') ?? '?'} | ${PREFILL.map((n) => r.prefillMs[String(n)].toFixed(1)).join(' / ')} | ${r.decodeTokensPerSec.toFixed(0)} | ${r.e2e.oursTokensPerSec.toFixed(0)} | ${r.e2e.referenceTokensPerSec.toFixed(0)} | ${r.e2e.identical ? 'yes' : 'NO'} |`,
    ),
    '',
    `End to end: greedy, up to 32 new tokens, on the first ${E2E_PROMPTS} golden prompts (${results[0]?.e2e.tokens ?? 0} tokens for the shipped model).`,
    'The machine is shared (other work runs concurrently), so compare ratios rather than absolute numbers.',
    '',
  ];
  writeFileSync(path.join(outDir, 'model-runner.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}
