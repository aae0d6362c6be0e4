// Errors the engine reports to callers. They cross the worker boundary by name and message and
// are rebuilt here, so callers can test `instanceof` and `name`.
import { PromptTooLongError } from './runner.ts';
import { SamplingParamsError } from './sampler.ts';
import { ModelLoadError } from './model-config.ts';

export { PromptTooLongError, SamplingParamsError, ModelLoadError };

/** The request can never fit in the KV block pool (prompt + one generated token). */
export class KvCacheTooSmallError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'KvCacheTooSmallError';
  }
}

/** A request the engine cannot run (empty prompt, ids outside the vocabulary...). */
export class InvalidRequestError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

export class EngineClosedError extends Error {
  constructor(message = 'the engine is closed') {
    super(message);
    this.name = 'EngineClosedError';
  }
}

export class EngineCrashedError extends Error {
  constructor(cause: Error) {
    super(`the engine's worker failed: ${cause.message}`, { cause });
    this.name = 'EngineCrashedError';
  }
}

/** Rebuilds an error sent by the worker as { name, message }. */
export function errorFromWire(name: string, message: string): Error {
  let e: Error;
  switch (name) {
    case 'KvCacheTooSmallError':
      e = new KvCacheTooSmallError(message);
      break;
    case 'InvalidRequestError':
      e = new InvalidRequestError(message);
      break;
    case 'SamplingParamsError':
      e = new SamplingParamsError(message);
      break;
    case 'PromptTooLongError': {
      const p = new PromptTooLongError(0, 0);
      p.message = message;
      e = p;
      break;
    }
    case 'EngineClosedError':
      e = new EngineClosedError(message);
      break;
    default:
      e = new Error(message);
      e.name = name;
  }
  return e;
}
