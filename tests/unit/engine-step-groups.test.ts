import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupRows } from '../../inference/engine/step-groups.ts';

const rows = (...lengths: number[]) => lengths.map((numNew, id) => ({ id, numNew }));
const shape = (groups: { numNew: number }[][]) => groups.map((g) => g.map((r) => r.numNew));
const padded = (groups: { numNew: number }[][]) => groups.reduce((n, g) => n + g.length * Math.max(...g.map((r) => r.numNew)), 0);

describe('splitting a step into model calls', () => {
  it('decoding rows go in one call, a long prefill chunk in its own', () => {
    const groups = groupRows(rows(1, 1, 1, 256, 1));
    assert.deepEqual(shape(groups), [[1, 1, 1, 1], [256]]);
    assert.equal(padded(groups), 260, 'one call would have computed 5 × 256 = 1280 positions');
  });

  it('prefill chunks of similar length share a call; very different ones do not', () => {
    assert.deepEqual(shape(groupRows(rows(100, 90, 95, 12, 10))), [[100, 95, 90], [12, 10]]);
  });

  it('every row is in exactly one call, and padding stays within the bound', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const input = rows(...Array.from({ length: 1 + Math.floor(rand() * 40) }, () => (rand() < 0.6 ? 1 : 2 + Math.floor(rand() * 300))));
      const groups = groupRows(input);
      assert.deepEqual(groups.flat().map((r) => r.id).sort((a, b) => a - b), input.map((r) => r.id));
      for (const g of groups) {
        const useful = g.reduce((n, r) => n + r.numNew, 0);
        assert.ok(g.length * Math.max(...g.map((r) => r.numNew)) <= 1.25 * useful || g.length === 1, `group ${g.map((r) => r.numNew)}`);
      }
    }
  });

  it('an empty step makes no call', () => {
    assert.deepEqual(groupRows([]), []);
  });
});
