// loadModel(dir): a model folder's config, tokenizer and chat template, ready for a Runner.
// MODEL_DIR selects the folder; the default is the model shipped in inference/model/parley-tiny.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModelConfig, ModelLoadError, type ModelConfig } from './model-config.ts';
import { loadTokenizer, type ParleyTokenizer } from './tokenizer.ts';
import { loadChatTemplate, type ChatMessage, type ChatTemplate, type ChatTool, type ChatToolCall, type RenderOptions } from './chat-template.ts';

export { ModelLoadError, type ModelConfig, type ParleyTokenizer, type ChatMessage, type ChatTool, type ChatToolCall, type RenderOptions };

export const SHIPPED_MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../model/parley-tiny');

/** MODEL_DIR from the environment, else the shipped model. */
export function resolveModelDir(env: NodeJS.ProcessEnv = process.env): string {
  const d = env.MODEL_DIR?.trim();
  return d ? path.resolve(d) : SHIPPED_MODEL_DIR;
}

export interface LoadedModel {
  config: ModelConfig;
  tokenizer: ParleyTokenizer;
  /** renders messages with the model's chat template (addGenerationPrompt defaults to true) */
  renderChat: ChatTemplate;
  /** renders then tokenizes (special tokens in the rendering are recognised; no extra BOS/EOS) */
  applyChatTemplate(messages: readonly ChatMessage[], opts?: RenderOptions): number[];
}

export function loadModel(dir: string = resolveModelDir()): LoadedModel {
  const config = readModelConfig(dir);
  const tokenizer = loadTokenizer(config.dir);
  const renderChat = loadChatTemplate(config.dir, tokenizer.config);
  for (const id of config.eosTokenIds) {
    if (tokenizer.idToToken(id) === undefined) {
      throw new ModelLoadError(`eos_token_id ${id} is not in the tokenizer's vocabulary`, config.dir);
    }
  }
  return {
    config,
    tokenizer,
    renderChat,
    applyChatTemplate: (messages, opts) => tokenizer.encode(renderChat(messages, opts)),
  };
}
