import type { LoadedModel } from '../../inference/engine/model.ts';
import { invalidRequest } from './errors.ts';

// What a prompt will cost, in three steps of increasing price, so that no request is tokenized
// before it has been admitted:
//  1. a floor from its characters alone: no token of the vocabulary is longer than its longest
//     entry, and a byte-level (or character-level) vocabulary never covers more than one character
//     per vocabulary character, so characters / longest-token is a lower bound on the token count.
//     A prompt whose floor already exceeds the context window is refused without tokenizing.
//  2. an estimate from its characters (the model's typical characters per token, measured once at
//     start-up on an English sample) for the quota reservation; settlement corrects it later.
//  3. the exact count, after admission — bounded by step 1 to contextLength × longest-token
//     characters (26 624 for the shipped model: 120–600 ms measured at that bound on this 2-core
//     machine at load ≈ 12, against 1.1–3 s for a 1 MB prompt), paid once per admitted request on
//     the event loop. (A tokenizer thread would take even that off the loop; not done yet.)

const SAMPLE = 'The quick brown fox jumps over the lazy dog. What is the capital of France? Please write a short poem about the sea, in four lines.';

export type PromptMessages = { role: 'system' | 'user'; content: string }[];

export class PromptBudget {
  readonly contextLength: number | null;
  /** typical characters per token (the estimate) */
  readonly charsPerToken: number;
  /** characters of the longest vocabulary entry: characters / this is a floor on the token count */
  readonly maxCharsPerToken: number;
  /** how many prompts were tokenized (for /metrics and tests: refused prompts must not be) */
  tokenized = 0;

  constructor(private readonly model: Pick<LoadedModel, 'config' | 'tokenizer' | 'applyChatTemplate'> | null) {
    this.contextLength = model?.config.contextLength ?? null;
    if (!model) {
      this.charsPerToken = 4;
      this.maxCharsPerToken = 1;
      return;
    }
    let longest = 1;
    for (let id = 0; id < model.config.vocabSize; id++) longest = Math.max(longest, model.tokenizer.idToToken(id)?.length ?? 0);
    this.maxCharsPerToken = longest;
    this.charsPerToken = Math.max(1, SAMPLE.length / Math.max(1, model.tokenizer.encode(SAMPLE).length));
  }

  static chars(messages: PromptMessages): number {
    return messages.reduce((n, m) => n + m.content.length, 0);
  }

  /** step 1: refuses (400 context_length_exceeded) a prompt whose characters alone cannot fit */
  checkFloor(messages: PromptMessages, maxTokens: number, param = 'messages'): void {
    if (!this.contextLength) return;
    const floor = Math.ceil(PromptBudget.chars(messages) / this.maxCharsPerToken);
    if (floor + maxTokens > this.contextLength) throw tooLong(this.contextLength, floor, maxTokens, true, param);
  }

  /** step 2: the prompt tokens reserved at admission */
  estimate(messages: PromptMessages): number {
    return Math.ceil(PromptBudget.chars(messages) / this.charsPerToken);
  }

  /** step 3: the exact count with the model's chat template (after admission); refuses what does not fit */
  exact(messages: PromptMessages, maxTokens: number, param = 'messages'): number {
    if (!this.model) return this.estimate(messages);
    this.tokenized++;
    const n = this.model.applyChatTemplate(messages).length;
    if (this.contextLength && n + maxTokens > this.contextLength) throw tooLong(this.contextLength, n, maxTokens, false, param);
    return n;
  }
}

/** Each served model's budget (its context window and tokenizer), made on first use; the default
 *  model's for a name the registry does not know. */
export class PromptBudgets {
  private readonly byModel = new Map<string, PromptBudget>();
  constructor(readonly defaultBudget: PromptBudget, private readonly load: (model: string) => PromptBudget | null = () => null) {}

  for(model: string): PromptBudget {
    let budget = this.byModel.get(model);
    if (!budget) {
      budget = this.load(model) ?? this.defaultBudget;
      this.byModel.set(model, budget);
    }
    return budget;
  }

  /** prompts tokenized by all of them */
  get tokenized(): number {
    return this.defaultBudget.tokenized + [...new Set(this.byModel.values())].filter((b) => b !== this.defaultBudget).reduce((n, b) => n + b.tokenized, 0);
  }
}

/** param: the request's field that holds the prompt (chat completions' messages, the Responses API's input) */
function tooLong(contextLength: number, promptTokens: number, maxTokens: number, atLeast: boolean, param: string) {
  const prompt = `${atLeast ? 'at least ' : ''}${promptTokens}`;
  return invalidRequest(`This model's maximum context length is ${contextLength} tokens. However, you requested ${atLeast ? 'at least ' : ''}${promptTokens + maxTokens} tokens (${prompt} in the ${param}, ${maxTokens} in the completion). Please reduce the length of the ${param} or completion.`, param, 'context_length_exceeded');
}
