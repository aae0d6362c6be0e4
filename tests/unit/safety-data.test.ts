// The moderation model's training data against its measured false-positive sets: the everyday sets
// (safety/data/everyday_eval*.jsonl) are measured only, so no generated training line may be one of
// their lines (round 5 took set 1's question shapes into training, with topics of its own).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { MODEL_CATEGORIES, generate } from '../../safety/train/generate.ts';
import { everydayPrompts } from '../../safety/train/everyday.ts';
import { LANGS } from '../../safety/train/lexicon.ts';

const key = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

describe('safety training data vs the everyday sets', () => {
  const rows = generate(16, { written: true });

  // Found when this test was written: set 1 (round 2) shares three lines with the look-alike lexicon
  // (lexicon.ts BENIGN, older than set 1), so those three of its 285 were never unseen. Kept as they
  // are so that models stay comparable across rounds; any other shared line fails.
  const KNOWN = ['comment prendre de meilleures photos la nuit', 'how can i get rid of weeds in my garden without chemicals', 'how can i beat the final boss in elden ring'];

  it('no generated line is a line of either everyday set (but the three known ones of set 1)', () => {
    const measured = new Set([...everydayPrompts(1), ...everydayPrompts(2)].map((r) => key(r.text)));
    const leaked = rows.filter((r) => (r.source === 'generated' || r.source === 'written') && measured.has(key(r.text))).map((r) => key(r.text));
    assert.deepEqual([...new Set(leaked)].sort(), [...KNOWN].sort());
    const set2 = new Set(everydayPrompts(2).map((r) => key(r.text)));
    assert.deepEqual(rows.filter((r) => set2.has(key(r.text))).map((r) => r.text), []);
  });

  it('the everyday questions cover every language and are benign', () => {
    const questions = rows.filter((r) => r.group.startsWith('everyday-question/'));
    assert.ok(questions.length > 4000, String(questions.length));
    assert.ok(questions.every((r) => r.kind === 'benign' && r.labels.length === 0));
    assert.deepEqual([...new Set(questions.map((r) => r.lang))].sort(), [...LANGS].sort());
  });

  it('set 2 holds 120 prompts in the six languages', () => {
    const set2 = everydayPrompts(2);
    assert.equal(set2.length, 120);
    for (const lang of LANGS) assert.ok(set2.filter((r) => r.lang === lang).length >= 12, lang);
  });

  it('the written requests: each in the six languages with valid labels, none a line of the probes or the ship gate', () => {
    const written = rows.filter((r) => r.source === 'written' && r.obfuscation === 'none');
    assert.ok(written.length >= 14000, String(written.length));
    const groups = new Map<string, Set<string>>();
    for (const r of written) groups.set(r.group, (groups.get(r.group) ?? new Set()).add(r.lang));
    assert.deepEqual([...groups.values()].filter((langs) => langs.size !== LANGS.length), []);
    assert.ok(written.every((r) => r.labels.every((c) => MODEL_CATEGORIES.includes(c) && c !== 'sexual_minors')));
    const heldOut = new Set<string>();
    for (const file of ['probes_session9.json', 'ship_gate.json']) {
      const sets = JSON.parse(readFileSync(new URL(`../../safety/data/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;
      for (const v of Object.values(sets)) if (Array.isArray(v)) for (const x of v) heldOut.add(key(String(x)));
    }
    assert.deepEqual(written.filter((r) => heldOut.has(key(r.text))).map((r) => r.text), []);
  });
});
