// The LLM-judge stage's engine-backed implementation (safety/guard.ts's GuardJudge): a guard model
// in a Hugging Face-style ONNX export, served by Parley's own engine (continuous batching, paged
// KV) in its worker thread, greedy, a dozen tokens at most, answer parsed as Llama Guard 3 output.
//
// Prompt: a real Llama Guard 3 export's chat template renders the guard prompt (task, hazard
// categories, conversation, instructions) from the plain user message, so the message is sent as
// is. A model whose template does not (Parley's tiny test guard, a plain chat template) gets
// safety/guard.ts's Llama Guard 3-style prompt as its user message.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { guardPrompt, parseGuardOutput, type GuardJudge, type GuardVerdict } from '../../safety/index.ts';
import { createEngine, type InferenceEngine } from '../engine/engine.ts';

/** True when the folder's chat template builds the Llama Guard prompt itself. */
export function templateRendersGuardPrompt(modelDir: string): boolean {
  const files = ['chat_template.jinja', 'chat_template.json', 'tokenizer_config.json'].map((f) => path.join(modelDir, f)).filter(existsSync);
  return files.some((f) => /UNSAFE CONTENT CATEGORIES/i.test(readFileSync(f, 'utf8')));
}

export interface EngineJudgeOptions {
  readonly modelDir: string;
  /** Sequences judged at once (default 8). */
  readonly maxSeqs?: number;
  /** onnxruntime threads (default 1: the judge shares the machine with the chat engine). */
  readonly threads?: number;
}

export async function createEngineJudge(o: EngineJudgeOptions): Promise<GuardJudge & { close(): Promise<void> }> {
  const engine: InferenceEngine = await createEngine({ modelDir: o.modelDir, maxSeqs: o.maxSeqs ?? 8, threads: o.threads ?? 1, kvCacheTokens: 16_384 });
  const ownTemplate = templateRendersGuardPrompt(o.modelDir);
  const id = `guard.${path.basename(path.resolve(o.modelDir))}`;
  let n = 0;
  return {
    id,
    async judge(text: string, signal?: AbortSignal): Promise<GuardVerdict> {
      const content = ownTemplate ? text : guardPrompt(text);
      const promptIds = engine.model.applyChatTemplate([{ role: 'user', content }], { addGenerationPrompt: true });
      const handle = engine.submit({ requestId: `${id}-${++n}`, promptIds, params: { temperature: 0, maxTokens: 12 } }, { signal });
      let out = '';
      for await (const t of handle) out += t.text;
      return parseGuardOutput(out);
    },
    close: () => engine.close(),
  };
}
