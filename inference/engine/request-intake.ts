// Intake of one submitted request: every check that can refuse it before it is queued (empty
// prompt, ids outside the vocabulary, prompt longer than the context or than the whole KV pool,
// bad sampling params, priority or constraint), then the Sequence built for it. Kept out of the
// engine loop: this is input validation, the loop is scheduling and sampling.
import type { LoadedModel } from './model.ts';
import { PromptTooLongError } from './runner.ts';
import { resolveSamplingParams, SamplingParamsError, type SamplingParams } from './sampler.ts';
import { Sequence } from './sequence.ts';
import { SpecState } from './speculative.ts';
import { InvalidRequestError, KvCacheTooSmallError } from './errors.ts';
import type { ResolvedEngineOptions } from './engine-options.ts';
import { Constraint } from '../../schemas/constraint.ts';
import { SchemaError } from './json-grammar.ts';
import { ConstraintCache, Vocabulary } from './token-mask.ts';

export interface SubmitInput {
  key: number;
  promptIds: number[];
  params: SamplingParams;
  priority?: number;
  tenant?: string;
  /** ms since the epoch (default: now) */
  arrival?: number;
}

/** Wall-clock ms since the epoch, at sub-ms resolution: arrivals and token times. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export class RequestIntake {
  /** compiled output constraints, built on the first constrained request */
  private constraintCache: ConstraintCache | null = null;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: ResolvedEngineOptions,
  ) {}

  /** The request's Sequence; throws (InvalidRequestError, SamplingParamsError, …) if it can never run. */
  sequence(input: SubmitInput): Sequence {
    const c = this.model.config;
    const ids = input.promptIds;
    if (!Array.isArray(ids) || ids.length === 0) throw new InvalidRequestError('prompt is empty');
    for (const x of ids) {
      if (!Number.isInteger(x) || x < 0 || x >= c.vocabSize) {
        throw new InvalidRequestError(`prompt has a token id outside the vocabulary (0..${c.vocabSize - 1}): ${x}`);
      }
    }
    if (ids.length >= c.contextLength) throw new PromptTooLongError(ids.length, c.contextLength);
    const { blockSize, numBlocks } = this.options;
    const need = Math.ceil((ids.length + 1) / blockSize);
    if (need > numBlocks) {
      throw new KvCacheTooSmallError(
        `prompt has ${ids.length} tokens but the KV cache holds ${numBlocks * blockSize} (${numBlocks} blocks of ${blockSize}); raise kvCacheTokens or shorten the prompt`,
      );
    }
    const params = resolveSamplingParams(input.params ?? {}, c.generationConfig);
    const speculative = input.params?.speculative ?? true;
    if (typeof speculative !== 'boolean') throw new SamplingParamsError(`speculative must be a boolean, got ${typeof speculative}`);
    const priority = input.priority ?? 0;
    if (!Number.isFinite(priority)) throw new InvalidRequestError(`priority must be a finite number, got ${priority}`);
    const constraint = input.params?.constraint ? this.constraintCursor(input.params.constraint) : null;
    const seq = new Sequence({
      key: input.key,
      promptIds: ids,
      params,
      maxTokens: Math.min(params.maxTokens, c.contextLength - ids.length),
      priority,
      tenant: input.tenant ?? '',
      arrival: input.arrival ?? now(),
      tokenizer: this.model.tokenizer,
      constraint,
    });
    // A constrained row is speculated too: verification masks each position with the constraint's
    // state after the tokens emitted before it (engine-loop.ts verify), as decoding without drafts does.
    if (speculative && this.options.speculative) seq.spec = new SpecState();
    return seq;
  }

  /** A cursor of the request's constraint (compiled once per constraint and cached). */
  private constraintCursor(input: unknown) {
    const parsed = Constraint.safeParse(input);
    if (!parsed.success) throw new InvalidRequestError(`constraint is invalid: ${parsed.error.issues[0]?.message}`);
    const c = this.model.config;
    this.constraintCache ??= new ConstraintCache(new Vocabulary(this.model.tokenizer, c.vocabSize, c.eosTokenIds));
    try {
      return this.constraintCache.cursor(parsed.data);
    } catch (e) {
      if (e instanceof SchemaError) throw new InvalidRequestError(`constraint schema: ${e.message}`);
      throw e;
    }
  }
}
