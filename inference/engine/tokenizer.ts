// The model's tokenizer (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers,
// plus an incremental detokenizer that turns a stream of ids into UTF-8-safe text deltas.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelLoadError } from './model-config.ts';

export interface ParleyTokenizer {
  /** text → ids. Special tokens written in the text (e.g. "<|im_start|>") are recognised.
   *  addSpecialTokens (default false) applies the tokenizer's post-processor (e.g. a BOS). */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** ids → text. skipSpecialTokens defaults to true. */
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** ids of the tokens flagged special in tokenizer.json */
  readonly specialIds: ReadonlySet<number>;
  /** tokenizer_config.json (bos_token, eos_token, chat_template, ...) */
  readonly config: Record<string, unknown>;
  /** the string value of a special token attribute of tokenizer_config.json, e.g. "eos_token" */
  specialToken(name: string): string | null;
}

function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return null;
}

export function loadTokenizer(modelDir: string): ParleyTokenizer {
  const tjPath = path.join(modelDir, 'tokenizer.json');
  const tcPath = path.join(modelDir, 'tokenizer_config.json');
  if (!existsSync(tjPath)) throw new ModelLoadError('missing tokenizer.json', modelDir);
  const tokenizerJson = JSON.parse(readFileSync(tjPath, 'utf8')) as {
    added_tokens?: { id: number; content: string; special?: boolean }[];
  };
  const config = existsSync(tcPath)
    ? (JSON.parse(readFileSync(tcPath, 'utf8')) as Record<string, unknown>)
    : ({} as Record<string, unknown>);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, config);
  } catch (e) {
    throw new ModelLoadError(`tokenizer.json is not supported (${(e as Error).message})`, modelDir);
  }
  const specialIds = new Set<number>(
    (tokenizerJson.added_tokens ?? []).filter((t) => t.special).map((t) => t.id),
  );
  return {
    encode(text, opts) {
      if (text.length === 0) return [];
      return tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? false }).ids;
    },
    decode(ids, opts) {
      if (ids.length === 0) return '';
      return tok.decode(ids as number[], { skip_special_tokens: opts?.skipSpecialTokens ?? true });
    },
    tokenToId: (t) => tok.token_to_id(t),
    idToToken: (id) => tok.id_to_token(id),
    specialIds,
    config,
    specialToken: (name) => tokenString(config[name]),
  };
}

/**
 * Streams text out of a growing list of ids. Each push returns the new text, never a partial
 * UTF-8 character (a multi-byte character split over tokens is held back until complete), and
 * keeps tokenizer context (e.g. leading-space handling of SentencePiece decoders) by decoding a
 * short window that starts before the new tokens (the method vLLM and TGI use).
 */
export class IncrementalDecoder {
  private ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(
    private readonly tokenizer: ParleyTokenizer,
    private readonly skipSpecialTokens = true,
  ) {}

  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const full = this.decode(this.prefixOffset, this.ids.length);
    if (full.length > prefix.length && !full.endsWith('\uFFFD')) {
      const delta = full.slice(prefix.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return delta;
    }
    return '';
  }

  /** Text still held back (an incomplete character at the end of the stream), as decoded. */
  flush(): string {
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const full = this.decode(this.prefixOffset, this.ids.length);
    this.prefixOffset = this.readOffset = this.ids.length;
    return full.length > prefix.length ? full.slice(prefix.length) : '';
  }

  private decode(from: number, to: number): string {
    return this.tokenizer.decode(this.ids.slice(from, to), { skipSpecialTokens: this.skipSpecialTokens });
  }
}
