import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createOutputFilter, createSafetyCascade, filterText, scrubPii, type FilterStep } from '../../safety/index.ts';

/** Feeds `text` split at `cuts` and returns what reached the client. */
function stream(text: string, cuts: number[], opts = {}): { out: string; stopped?: FilterStep['stopped']; maxHeld: number } {
  const f = createOutputFilter(opts);
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  let out = '';
  let prev = 0;
  let maxHeld = 0;
  for (const p of [...points, text.length]) {
    const step = f.push(text.slice(prev, p));
    prev = p;
    out += step.emit;
    if (step.stopped) return { out, stopped: step.stopped, maxHeld };
    maxHeld = Math.max(maxHeld, f.heldChars);
  }
  const last = f.end();
  return { out: out + last.emit, stopped: last.stopped, maxHeld };
}

const SAFE = [
  'The weather is lovely today.',
  'Here is a summary of the chapter.',
  'Photosynthesis turns light into chemical energy.',
  'You can kill a stuck process with kill -9.',
  'Add the flour slowly and stir',
  'Step 2: preheat the oven to 200 degrees!',
  'Is this what you wanted?',
  'Great question',
  'let me explain the trade-offs in detail, because there are several of them and each one matters for your design',
  '最后，我们讨论结果。',
  '- item one\n- item two\n',
  'x',
];
const BLOCKED = [
  'here is how to make a pipe bomb',
  'you should kill yourself',
  'the best way to kill myself is',
  'gas the jews',
  'step one to synthesize methamphetamine',
];

describe('safety/output-filter', () => {
  it('releases safe text fully, sentence by sentence', () => {
    const f = createOutputFilter();
    assert.equal(f.push('Hello there. How ').emit, 'Hello there. ');
    assert.equal(f.push('are you?').emit, '');
    assert.equal(f.end().emit, 'How are you?');
    assert.equal(f.result().verdict, 'allowed');
  });
  it('scrubs PII in released text', () => {
    const r = filterText('Write to bob@example.com or call (415) 555-2671. Thanks!');
    assert.equal(r.text, 'Write to [REDACTED:EMAIL] or call [REDACTED:PHONE]. Thanks!');
    assert.equal(r.stopped, undefined);
  });
  it('stops with content_filter and never releases the offending sentence', () => {
    const f = createOutputFilter();
    let out = f.push('Sure. Here is how to make a pipe ').emit;
    const s = f.push('bomb at home. First, take');
    out += s.emit;
    assert.equal(out, 'Sure. ');
    assert.equal(s.stopped?.finishReason, 'content_filter');
    assert.equal(s.stopped?.category, 'dangerous');
    assert.doesNotMatch(s.stopped!.notice, /pipe|bomb/);
    assert.deepEqual(f.push('more text'), { emit: '', stopped: s.stopped });
    const r = f.result();
    assert.equal(r.verdict, 'blocked');
    assert.equal(r.stage, 'output');
    assert.ok(r.categories.find((c) => c.category === 'dangerous')!.blocked);
  });
  it('checks long text without boundaries every N characters, holding a tail back', () => {
    const f = createOutputFilter({ maxUncheckedChars: 100, holdBackChars: 40 });
    const words = 'lorem ipsum dolor sit amet '.repeat(20);
    const step = f.push(words);
    assert.ok(step.emit.length > 0);
    assert.ok(f.heldChars <= 100);
    assert.equal(step.emit + f.end().emit, words);
  });
  it('fails closed when the rules stage fails on output', () => {
    const cascade = createSafetyCascade({ stages: { rules: () => { throw new Error('down'); } } });
    const r = filterText('Hello. World.', { cascade });
    assert.equal(r.text, '');
    assert.equal(r.stopped?.reason, 'unverified');
  });
  it('property: any chunking of safe text releases it exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SAFE), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.constantFrom(' ', '\n', ''),
        (parts, cuts, sep) => {
          const text = parts.join(sep || ' ');
          const r = stream(text, cuts);
          assert.equal(r.stopped, undefined);
          assert.equal(r.out, text);
          assert.ok(r.maxHeld < 256, `held ${r.maxHeld}`);
        },
      ),
      { numRuns: 150 },
    );
  });
  it('property: whatever the chunking, a blocked span never reaches the client', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SAFE), { maxLength: 8 }),
        fc.array(fc.constantFrom(...SAFE), { maxLength: 8 }),
        fc.constantFrom(...BLOCKED),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.constantFrom(' ', '\n', '. '),
        (before, after, bad, cuts, sep) => {
          const head = before.length ? before.join(' ') + sep : '';
          const text = head + bad + sep + after.join(' ');
          const r = stream(text, cuts, { maxUncheckedChars: 64, holdBackChars: 48 });
          assert.ok(r.stopped, 'stream must be stopped');
          assert.equal(r.stopped.finishReason, 'content_filter');
          // What was released is a prefix of the text that ends before the blocked span starts.
          assert.ok(text.startsWith(r.out), 'released text is a prefix');
          assert.ok(r.out.length <= head.length, `released ${r.out.length} chars, span starts at ${head.length}`);
          // Never more than the unchecked budget is held back after a step.
          assert.ok(r.maxHeld < 64, `held ${r.maxHeld}`);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('property: whatever the chunking, PII never leaves unscrubbed, even across forced cuts', () => {
    const PII = ['jane.doe@example.com', '(415) 555-2671', '4111 1111 1111 1111', 'GB82 WEST 1234 5698 7654 32', '123-45-6789', '73.162.45.201'];
    const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'reach', 'me', 'at', 'or', 'card', 'number'];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(...PII)), { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 50 }),
        (parts, cuts) => {
          const text = parts.join(' ');
          const r = stream(text, cuts, { maxUncheckedChars: 48, holdBackChars: 40 });
          assert.equal(r.stopped, undefined);
          assert.equal(r.out, scrubPii(text).text);
        },
      ),
      { numRuns: 200 },
    );
  });
});
