// `npm run eval:golden` refuses options it cannot use, before loading anything: one line on stderr,
// exit status 2 (1 means a skill scored below --min). Before, `--min abc` and `--per-kind 0` became
// NaN comparisons and 0 items and the run exited 0; a missing model or golden set printed a stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = new URL('../../inference/model/eval-golden.ts', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });

const refused: [string[], RegExp][] = [
  [['--min', 'abc'], /^eval-golden: --min must be a fraction between 0 and 1$/],
  [['--min', '99%'], /^eval-golden: --min must be a fraction between 0 and 1$/],
  [['--min', '1.5'], /^eval-golden: --min must be a fraction between 0 and 1$/],
  [['--per-kind', '0', '--min', '0.99'], /^eval-golden: --per-kind must be a whole number ≥ 1$/],
  [['--per-kind', 'abc'], /^eval-golden: --per-kind must be a whole number ≥ 1$/],
  [['--per-kind', '-1'], /^eval-golden: --per-kind must be a whole number ≥ 1$/],
  [['--temperature', 'abc'], /^eval-golden: --temperature must be a number between 0 and 2$/],
  [['--model', '/nonexistent'], /^eval-golden: cannot load model from \/nonexistent: /],
  [['--golden', '/missing'], /^eval-golden: no golden set at \/missing$/],
];

for (const [args, message] of refused) {
  test(`eval:golden ${args.join(' ')}: one line on stderr, exit status 2, no table`, () => {
    const r = run(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
  });
}

test('eval:golden with good options still scores: one item, --min 0, exit status 0', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'golden-'));
  const file = path.join(dir, 'one.jsonl');
  writeFileSync(file, readFileSync(new URL('../../inference/model/golden.jsonl', import.meta.url), 'utf8').split('\n')[0] + '\n');
  const r = run('--golden', file, '--per-kind', '1', '--min', '0', '--temperature', '0', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).total, 1);
});
