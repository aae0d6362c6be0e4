// A small seeded PRNG (xoshiro128**, seeded through splitmix32) for sampling:
// the same seed gives the same sequence on every platform and Node version.
import { randomInt } from 'node:crypto';

export interface Rng {
  /** uniform float in [0, 1) with 32 bits of randomness */
  next(): number;
  /** the seed this generator started from */
  readonly seed: number;
}

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/** Seeds are integers in [0, 2^53). Both halves of the seed feed the state. */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  let st = lo ^ Math.imul(hi, 0x27d4eb2d);
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    let z: number;
    [st, z] = splitmix32(st ^ (i === 1 ? hi : 0));
    s[i] = z;
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return {
    seed,
    next() {
      const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
      const t = s[1] << 9;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11);
      return result / 4294967296;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh random seed, for requests that do not give one (report it so the run can be replayed). */
export function randomSeed(): number {
  return randomInt(0, 2 ** 48 - 1);
}
