// The model's chat template (Jinja, from tokenizer_config.json or chat_template.jinja),
// rendered with @huggingface/jinja the way transformers / transformers.js render it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { ModelLoadError } from './model-config.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string;
  /** an assistant turn's tool calls, OpenAI shape; `arguments` a JSON string or an object */
  tool_calls?: readonly ChatToolCall[];
  tool_call_id?: string;
  name?: string;
}

export interface ChatToolCall {
  id?: string;
  type?: 'function';
  function: { name: string; arguments: string | Record<string, unknown> };
}

/** A tool offered to the model, OpenAI shape: {type: 'function', function: {name, description, parameters}}. */
export type ChatTool = Record<string, unknown>;

export interface RenderOptions {
  /** append the assistant header so the model answers next (default true) */
  addGenerationPrompt?: boolean;
  /** tools offered to the model, handed to the template as `tools` (as transformers' apply_chat_template does);
   * omitted or empty means no tools */
  tools?: readonly ChatTool[];
  /** extra variables handed to the template */
  extra?: Record<string, unknown>;
}

export type ChatTemplate = (messages: readonly ChatMessage[], opts?: RenderOptions) => string;

const SPECIAL_TOKEN_ATTRIBUTES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

function findTemplate(dir: string, tokenizerConfig: Record<string, unknown>): string | null {
  const jinjaFile = path.join(dir, 'chat_template.jinja');
  if (existsSync(jinjaFile)) return readFileSync(jinjaFile, 'utf8');
  const jsonFile = path.join(dir, 'chat_template.json');
  if (existsSync(jsonFile)) {
    const t = (JSON.parse(readFileSync(jsonFile, 'utf8')) as { chat_template?: unknown }).chat_template;
    if (typeof t === 'string') return t;
  }
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    // named templates: [{name, template}], the "default" one is used
    const named = t as { name: string; template: string }[];
    return (named.find((x) => x.name === 'default') ?? named[0])?.template ?? null;
  }
  return null;
}

export function loadChatTemplate(modelDir: string, tokenizerConfig: Record<string, unknown>): ChatTemplate {
  const source = findTemplate(modelDir, tokenizerConfig);
  if (!source) {
    throw new ModelLoadError(
      'no chat template (looked for chat_template in tokenizer_config.json, chat_template.jinja, chat_template.json)',
      modelDir,
    );
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new ModelLoadError(`chat template does not parse (${(e as Error).message})`, modelDir);
  }
  const specials: Record<string, string> = {};
  for (const k of SPECIAL_TOKEN_ATTRIBUTES) {
    const v = tokenizerConfig[k];
    const s = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { content?: unknown }).content : null;
    if (typeof s === 'string' && s) specials[k] = s;
  }
  return (messages, opts) =>
    template.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: opts?.addGenerationPrompt ?? true,
      ...(opts?.tools?.length ? { tools: opts.tools.map((t) => structuredClone(t)) } : {}),
      ...specials,
      ...(opts?.extra ?? {}),
    });
}
