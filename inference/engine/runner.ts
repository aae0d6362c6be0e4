// Single-sequence generation: prefill the prompt, then decode one token at a time through the
// KV cache, sampling each token, until EOS, a stop string, maxTokens or the context length.
// A plain class (no timers, no globals): usable in the main thread or inside a worker thread.
import type { LoadedModel } from './model.ts';
import { ModelSession, type KvCache, type SessionOptions } from './model-session.ts';
import { resolveSamplingParams, Sampler, type ResolvedSamplingParams, type SamplingParams } from './sampler.ts';
import { StopStringMatcher } from './stop-strings.ts';
import { ConstraintCache, Vocabulary, type ConstraintCursor } from './token-mask.ts';
import { IncrementalDecoder } from './tokenizer.ts';

export interface GeneratedToken {
  /** the sampled token id */
  id: number;
  /** text this token adds to the output (may be '' while text is held back: a partial UTF-8
   *  character, or the possible beginning of a stop string). Concatenating every `text` gives the
   *  output text. */
  text: string;
  /** 0-based index of the token in the generation */
  index: number;
  /** true only for an end-of-sequence token yielded to release text that was held back */
  eos?: boolean;
}

/** eos: an EOS id was sampled; stop: a stop string; length: maxTokens or context length; cancelled: signal */
export type FinishReason = 'eos' | 'stop' | 'length' | 'cancelled';

export interface GenerationResult {
  /** generated ids (without the EOS id) */
  ids: number[];
  text: string;
  finishReason: FinishReason;
  /** the stop string that ended the generation, if any */
  stopString?: string;
  promptTokens: number;
  completionTokens: number;
  params: ResolvedSamplingParams;
}

export interface GenerateOptions {
  signal?: AbortSignal;
}

export class PromptTooLongError extends RangeError {
  constructor(
    readonly promptTokens: number,
    readonly contextLength: number,
  ) {
    super(`prompt has ${promptTokens} tokens; the model's context length is ${contextLength}`);
    this.name = 'PromptTooLongError';
  }
}

/** An async iterable of tokens; `result` resolves when the iteration has finished. */
export interface Generation extends AsyncIterable<GeneratedToken> {
  readonly result: Promise<GenerationResult>;
}

export class Runner {
  /** compiled output constraints, built on the first constrained generation */
  private constraints: ConstraintCache | null = null;

  private constructor(
    readonly model: LoadedModel,
    readonly session: ModelSession,
  ) {}

  static async create(model: LoadedModel, opts: SessionOptions = {}): Promise<Runner> {
    return new Runner(model, await ModelSession.create(model.config, opts));
  }

  /** Streams the generation for a prompt (token ids, e.g. from model.applyChatTemplate). */
  generate(promptIds: readonly number[], params: SamplingParams = {}, opts: GenerateOptions = {}): Generation {
    const resolved = resolveSamplingParams(params, this.model.config.generationConfig);
    const cursor = params.constraint ? this.constraintCursor(params) : null;
    let resolve!: (r: GenerationResult) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<GenerationResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    result.catch(() => {}); // the iterator rethrows; avoid an unhandled rejection here
    const self = this;
    return {
      result,
      [Symbol.asyncIterator]() {
        const it = self.run(promptIds, resolved, opts, resolve, cursor);
        return {
          async next() {
            try {
              return await it.next();
            } catch (e) {
              reject(e);
              throw e;
            }
          },
          async return(v?: unknown) {
            await it.return(undefined);
            return { done: true as const, value: v as GeneratedToken };
          },
        };
      },
    };
  }

  private constraintCursor(params: SamplingParams): ConstraintCursor {
    const c = this.model.config;
    this.constraints ??= new ConstraintCache(new Vocabulary(this.model.tokenizer, c.vocabSize, c.eosTokenIds));
    return this.constraints.cursor(params.constraint!);
  }

  /** Runs a generation to the end. */
  async complete(promptIds: readonly number[], params: SamplingParams = {}, opts: GenerateOptions = {}): Promise<GenerationResult> {
    const g = this.generate(promptIds, params, opts);
    for await (const _ of g) {
      // drain
    }
    return g.result;
  }

  /** Logits of the last position after feeding the whole prompt (no sampling). */
  async lastLogits(promptIds: readonly number[]): Promise<Float32Array> {
    const out = await this.session.forward({ inputIds: promptIds, batch: 1, seqLen: promptIds.length });
    return out.logits.slice((promptIds.length - 1) * out.vocab, promptIds.length * out.vocab);
  }

  private async *run(
    promptIds: readonly number[],
    params: ResolvedSamplingParams,
    opts: GenerateOptions,
    done: (r: GenerationResult) => void,
    cursor: ConstraintCursor | null,
  ): AsyncGenerator<GeneratedToken, void, undefined> {
    const { config, tokenizer } = this.model;
    const n = promptIds.length;
    if (n === 0) throw new RangeError('prompt is empty');
    if (n >= config.contextLength) throw new PromptTooLongError(n, config.contextLength);
    const maxTokens = Math.min(params.maxTokens, config.contextLength - n);
    const eos = new Set(config.eosTokenIds);
    const sampler = new Sampler(params);
    const decoder = new IncrementalDecoder(tokenizer);
    const stops = new StopStringMatcher(params.stop, { outsideToolCalls: params.stopOutsideToolCalls });
    const ids: number[] = [];
    let text = '';
    let finished = false;
    const finish = (finishReason: FinishReason, stopString?: string) => {
      finished = true;
      done({ ids, text, finishReason, stopString, promptTokens: n, completionTokens: ids.length, params });
    };
    try {
      let out = await this.session.forward({ inputIds: promptIds, batch: 1, seqLen: n });
      let past: KvCache = out.present;
      let row = out.logits.subarray((n - 1) * out.vocab, n * out.vocab);
      for (;;) {
        if (opts.signal?.aborted) return finish('cancelled');
        cursor?.apply(row, maxTokens - ids.length); // as EngineCore.step does
        const id = sampler.sample(row);
        const atMax = ids.length + 1 >= maxTokens;
        const closed = cursor !== null && cursor.closesWith(id, atMax); // as EngineCore.accept
        if (eos.has(id)) {
          const rest = stops.push(decoder.flush()).emit + stops.flush();
          if (rest) {
            text += rest;
            yield { id, text: rest, index: ids.length, eos: true };
          }
          return finish('eos');
        }
        ids.push(id);
        const last = ids.length >= maxTokens;
        let delta = decoder.push(id);
        if (last || closed) delta += decoder.flush();
        const check = stops.push(delta);
        let emit = check.emit;
        if ((last || closed) && !check.stopped) emit += stops.flush();
        text += emit;
        yield { id, text: emit, index: ids.length - 1 };
        if (check.stopped) return finish('stop', check.stop);
        if (closed) return finish('stop'); // the constrained output is complete
        if (last) return finish('length');
        out = await this.session.forward({ inputIds: [id], batch: 1, seqLen: 1, past });
        past = out.present;
        row = out.logits.subarray(0, out.vocab);
      }
    } catch (e) {
      finished = true; // the iterator rethrows; `result` rejects with the same error
      throw e;
    } finally {
      // a consumer that stops iterating early (break) ends the generation as cancelled
      if (!finished) finish('cancelled');
    }
  }
}
