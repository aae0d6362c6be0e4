// Reads a model folder (a Hugging Face Optimum ONNX export of a Llama-family decoder) and
// describes it: shape of the network, context length, special token ids, files to load.
// Anything the engine cannot run is rejected here, with a message naming what is missing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ModelConfig {
  /** absolute path of the model folder */
  dir: string;
  /** absolute path of the ONNX decoder (with past) */
  onnxPath: string;
  /** config.json model_type, e.g. "llama", "qwen2" */
  modelType: string;
  /** config.json "parley.name" or the folder name */
  name: string;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  hiddenSize: number;
  vocabSize: number;
  /** maximum number of positions (prompt + generated) */
  contextLength: number;
  /** ids that end a generation: config.json ∪ generation_config.json eos_token_id */
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
  /** the raw config.json */
  raw: Record<string, unknown>;
  /** the raw generation_config.json ({} if absent) */
  generationConfig: Record<string, unknown>;
}

/** Model types whose decoder-with-past exports share the Llama input/output layout. */
export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'mistral', 'smollm3', 'qwen3', 'granite', 'olmo', 'olmo2'];

/** Where the ONNX file may live, in order of preference. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx', 'onnx/decoder_model_merged.onnx', 'decoder_model_merged.onnx'];

export class ModelLoadError extends Error {
  constructor(
    message: string,
    readonly dir: string,
  ) {
    super(`cannot load model from ${dir}: ${message}`);
    this.name = 'ModelLoadError';
  }
}

function readJson(dir: string, file: string, required: boolean): Record<string, unknown> | null {
  const p = path.join(dir, file);
  if (!existsSync(p)) {
    if (required) throw new ModelLoadError(`missing ${file}`, dir);
    return null;
  }
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError(`${file} is not valid JSON (${(e as Error).message})`, dir);
  }
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

export function readModelConfig(modelDir: string): ModelConfig {
  const dir = path.resolve(modelDir);
  if (!existsSync(dir)) throw new ModelLoadError('folder does not exist', dir);
  const raw = readJson(dir, 'config.json', true)!;
  // multimodal / wrapper configs keep the decoder's fields under text_config
  const c = (raw.text_config as Record<string, unknown> | undefined) ?? raw;
  const generationConfig = readJson(dir, 'generation_config.json', false) ?? {};

  const modelType = String(c.model_type ?? raw.model_type ?? '');
  if (!modelType) throw new ModelLoadError('config.json has no model_type', dir);
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    throw new ModelLoadError(
      `model_type "${modelType}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
      dir,
    );
  }
  const num = (key: string, fallback?: number): number => {
    const v = c[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
    if (fallback !== undefined) return fallback;
    throw new ModelLoadError(`config.json is missing ${key}`, dir);
  };
  const numLayers = num('num_hidden_layers');
  const numHeads = num('num_attention_heads');
  const hiddenSize = num('hidden_size');
  const numKvHeads = num('num_key_value_heads', numHeads);
  const headDim = num('head_dim', hiddenSize / numHeads);
  const vocabSize = num('vocab_size');
  const contextLength = num('max_position_embeddings');
  if (!Number.isInteger(headDim)) throw new ModelLoadError('config.json: head_dim is not an integer', dir);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelLoadError(`num_attention_heads (${numHeads}) is not a multiple of num_key_value_heads (${numKvHeads})`, dir);
  }

  const onnxRel = ONNX_CANDIDATES.find((f) => existsSync(path.join(dir, f)));
  if (!onnxRel) throw new ModelLoadError(`missing the ONNX decoder (looked for ${ONNX_CANDIDATES.join(', ')})`, dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(path.join(dir, f))) throw new ModelLoadError(`missing ${f}`, dir);
  }

  const eos = new Set<number>([...ids(c.eos_token_id ?? raw.eos_token_id), ...ids(generationConfig.eos_token_id)]);
  if (eos.size === 0) throw new ModelLoadError('no eos_token_id in config.json or generation_config.json', dir);
  const bos = ids(generationConfig.bos_token_id ?? c.bos_token_id ?? raw.bos_token_id)[0] ?? null;
  const pad = ids(generationConfig.pad_token_id ?? c.pad_token_id ?? raw.pad_token_id)[0] ?? null;
  const parley = raw.parley as { name?: string } | undefined;

  return {
    dir,
    onnxPath: path.join(dir, onnxRel),
    modelType,
    name: parley?.name ?? path.basename(dir),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    hiddenSize,
    vocabSize,
    contextLength,
    eosTokenIds: [...eos].sort((a, b) => a - b),
    bosTokenId: bos,
    padTokenId: pad,
    raw,
    generationConfig,
  };
}
