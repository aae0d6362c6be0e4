// Stage 4 of the cascade: prompt-injection / jailbreak heuristics that need the raw text.
//
// The phrase heuristics (instruction overrides, role-play escapes, system-prompt extraction) are
// data in safety/rules/prompt_injection.json and run with the other rules. This module adds what
// phrases cannot see: chat-template control tokens pasted into a message, and encoded payloads
// (base64 blocks that decode to text), whose decoded text the cascade scans again.
import { Buffer } from 'node:buffer';

export interface InjectionSignal {
  /** Stable id for audit, e.g. `injection/template-token`. */
  readonly id: string;
  readonly score: number;
}

export interface InjectionScan {
  readonly score: number;
  readonly signals: readonly InjectionSignal[];
  /** Text decoded from encoded blocks, to be scanned again by the whole cascade. */
  readonly decoded: readonly string[];
}

// Control tokens of common chat templates (ChatML, Llama 2/3, Mistral, Alpaca-style headers).
const TEMPLATE_TOKENS =
  /<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|end_of_text|start_header_id|end_header_id|eot_id)\|>|\[\/?INST\]|<<\/?SYS>>|<\/?(?:system|system_prompt|instructions)>|^\s*#{2,4}\s*(?:system|instruction|response)\s*:/im;

const BASE64_BLOCK = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/=_-])/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Limits so a hostile message cannot make the cascade decode megabytes. */
export const DECODE_LIMITS = { maxBlocks: 8, maxDecodedChars: 16_384 } as const;

/** Decodes a base64/base64url block if it is readable text (not binary, not random bytes). */
export function decodeTextBlock(block: string): string | undefined {
  const clean = block.replace(/=+$/, '');
  // Hex strings, long words and identifiers also match the alphabet: require base64's mix.
  if (!/[A-Z]/.test(clean) || !/[a-z]/.test(clean)) return undefined;
  if (clean.length % 4 === 1) return undefined;
  let text: string;
  try {
    text = utf8.decode(Buffer.from(clean.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  } catch {
    return undefined;
  }
  if (text.length < 8) return undefined;
  let printable = 0;
  let letters = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c !== 0x7f) printable++;
    else if (c === 0x09 || c === 0x0a || c === 0x0d) printable++;
    if (/\p{L}/u.test(ch)) letters++;
  }
  const n = Array.from(text).length;
  if (printable / n < 0.95 || letters / n < 0.5) return undefined;
  return text;
}

/** Heuristics over the raw (not normalized) text. Never throws on string input. */
export function scanInjection(raw: string): InjectionScan {
  const signals: InjectionSignal[] = [];
  if (TEMPLATE_TOKENS.test(raw)) signals.push({ id: 'injection/template-token', score: 0.75 });
  const decoded: string[] = [];
  let budget: number = DECODE_LIMITS.maxDecodedChars;
  let blocks = 0;
  for (const m of raw.matchAll(BASE64_BLOCK)) {
    if (blocks >= DECODE_LIMITS.maxBlocks || budget <= 0) break;
    const text = decodeTextBlock(m[0]);
    if (text === undefined) continue;
    blocks++;
    decoded.push(text.slice(0, budget));
    budget -= text.length;
  }
  // Natural-language text hidden in base64 is itself a weak sign of evasion (LOW); what it says
  // is judged by the cascade's second pass over `decoded`.
  if (decoded.some((t) => /\s\S+\s/.test(t))) signals.push({ id: 'injection/encoded-text', score: 0.4 });
  const score = signals.reduce((m, s) => Math.max(m, s.score), 0);
  return { score, signals, decoded };
}
