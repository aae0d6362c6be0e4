// Which sentence-embedding model to load: EMBEDDING_MODEL_DIR, or the model Parley ships. Any
// Hugging Face Optimum feature-extraction export of the BERT family (BERT, MiniLM — model_type
// "bert") is accepted: config.json, tokenizer.json and model.onnx at the folder root or under onnx/.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const SHIPPED_EMBEDDING_MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parley-embed');

export class EmbeddingModelError extends Error {
  constructor(message: string, readonly dir: string) {
    super(`embedding model at ${dir}: ${message}`);
    this.name = 'EmbeddingModelError';
  }
}

const BertConfig = z.object({
  model_type: z.enum(['bert']),
  hidden_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive().default(512),
});

const TokenizerConfig = z.object({ model_max_length: z.number().positive().optional() }).passthrough();

export interface EmbeddingModelFiles {
  dir: string;
  /** the name /v1/embeddings reports and accepts: the folder's base name */
  name: string;
  onnxPath: string;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  dimensions: number;
  /** longer inputs are truncated to this many tokens, [CLS] and [SEP] included */
  maxTokens: number;
}

export function resolveEmbeddingModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.EMBEDDING_MODEL_DIR || SHIPPED_EMBEDDING_MODEL_DIR);
}

export function readEmbeddingModel(dir: string): EmbeddingModelFiles {
  const file = (name: string) => path.join(dir, name);
  if (!existsSync(file('config.json'))) throw new EmbeddingModelError('missing config.json', dir);
  const parsed = BertConfig.safeParse(JSON.parse(readFileSync(file('config.json'), 'utf8')));
  if (!parsed.success) {
    throw new EmbeddingModelError(`config.json is not a BERT-family encoder (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`, dir);
  }
  if (!existsSync(file('tokenizer.json'))) throw new EmbeddingModelError('missing tokenizer.json', dir);
  const onnxPath = [file('model.onnx'), file('onnx/model.onnx')].find((p) => existsSync(p));
  if (!onnxPath) throw new EmbeddingModelError('missing model.onnx (looked at the root and under onnx/)', dir);
  const tokenizerConfig = existsSync(file('tokenizer_config.json'))
    ? TokenizerConfig.parse(JSON.parse(readFileSync(file('tokenizer_config.json'), 'utf8')))
    : {};
  const declared = typeof tokenizerConfig.model_max_length === 'number' ? tokenizerConfig.model_max_length : Infinity;
  return {
    dir,
    name: path.basename(dir),
    onnxPath,
    tokenizerJson: JSON.parse(readFileSync(file('tokenizer.json'), 'utf8')),
    tokenizerConfig,
    dimensions: parsed.data.hidden_size,
    maxTokens: Math.min(declared, parsed.data.max_position_embeddings),
  };
}
