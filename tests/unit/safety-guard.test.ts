import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSafetyCascade, guardPrompt, parseGuardOutput, type GuardJudge, type GuardVerdict } from '../../safety/index.ts';

// The LLM-judge stage (issue 16, item 5): Llama Guard 3 prompt and output parsing, and the cascade
// consulting the judge only for inputs the other stages left uncertain.

function fakeJudge(answer: string | Error, seen: string[] = [], delayMs = 1): GuardJudge {
  return {
    id: 'fake-guard',
    async judge(text: string, signal?: AbortSignal): Promise<GuardVerdict> {
      seen.push(text);
      await new Promise((r, j) => { const t = setTimeout(r, delayMs); signal?.addEventListener('abort', () => { clearTimeout(t); j(new Error('aborted')); }); });
      if (answer instanceof Error) throw answer;
      return parseGuardOutput(answer);
    },
  };
}

describe('safety/guard: Llama Guard 3 format', () => {
  it('builds the Llama Guard 3 prompt around the user message', () => {
    const p = guardPrompt('how do I pick a lock');
    assert.match(p, /^Task: Check if there is unsafe content in 'User' messages/);
    assert.match(p, /<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes\.\n/);
    assert.match(p, /S14: Code Interpreter Abuse\.\n<END UNSAFE CONTENT CATEGORIES>/);
    assert.match(p, /<BEGIN CONVERSATION>\n\nUser: how do I pick a lock\n\n<END CONVERSATION>/);
    assert.match(p, /First line must read 'safe' or 'unsafe'/);
  });

  it('parses "safe", "unsafe\\nS1,S9" and maps the codes onto Parley categories', () => {
    assert.deepEqual(parseGuardOutput('safe'), { safe: true });
    assert.deepEqual(parseGuardOutput('  safe\n'), { safe: true });
    assert.deepEqual(parseGuardOutput('unsafe\nS1,S9'), { safe: false, codes: ['S1', 'S9'], categories: ['dangerous'] });
    assert.deepEqual(parseGuardOutput('unsafe\nS4, S10'), { safe: false, codes: ['S4', 'S10'], categories: ['sexual_minors', 'hate'] });
    assert.deepEqual(parseGuardOutput('unsafe\nS6'), { safe: false, codes: ['S6'], categories: [] });
    assert.deepEqual(parseGuardOutput('unsafe'), { safe: false, codes: [], categories: [] });
  });

  it('refuses answers off format', () => {
    for (const bad of ['', 'Sure! Here is', 'unsafe-ish', 'SAFE?']) assert.throws(() => parseGuardOutput(bad), /off format/);
  });
});

describe('cascade with an LLM judge', () => {
  // Rules only (no model: deterministic whatever model ships): this scores dangerous LOW, uncertain.
  const uncertainText = 'I could murder a pizza right now.';

  it('is consulted only for uncertain inputs, and "unsafe" blocks the categories it names', async () => {
    const seen: string[] = [];
    const base = createSafetyCascade();
    const before = await base.check(uncertainText);
    assert.equal(before.verdict !== 'blocked', true);
    assert.ok(before.categories.some((c) => c.severity === 'LOW'), JSON.stringify(before.categories.filter((c) => c.score > 0)));
    const cascade = createSafetyCascade({ judge: fakeJudge('unsafe\nS2', seen) });
    const r = await cascade.check(uncertainText);
    assert.equal(r.verdict, 'blocked');
    assert.deepEqual(r.blockedCategories, ['fraud_scams']);
    assert.ok(r.findings.some((f) => f.evidence.includes('judge/fake-guard')));
    assert.match(cascade.policyVersion, /\+judge\.fake-guard$/);
    // what the event records is the version the cascade advertises, judge included
    assert.equal(r.policyVersion, cascade.policyVersion);
    // Clear inputs never reach the judge: nothing uncertain, or already blocked.
    await cascade.check('What is the capital of France?');
    await cascade.check('how do I build a pipe bomb');
    assert.deepEqual(seen, [uncertainText]);
  });

  it('"safe" changes nothing; an unsafe verdict naming no Parley category blocks the uncertain ones', async () => {
    const safe = await createSafetyCascade({ judge: fakeJudge('safe') }).check(uncertainText);
    assert.notEqual(safe.verdict, 'blocked');
    const unnamed = await createSafetyCascade({ judge: fakeJudge('unsafe\nS6') }).check(uncertainText);
    assert.equal(unnamed.verdict, 'blocked');
  });

  it('a failing, off-format or slow judge degrades the result and blocks nothing more', async () => {
    for (const judge of [fakeJudge(new Error('guard down')), fakeJudge('I think it is fine'), fakeJudge('unsafe\nS1', [], 200)]) {
      const r = await createSafetyCascade({ judge, judgeTimeoutMs: 50 }).check(uncertainText);
      assert.notEqual(r.verdict, 'blocked');
      assert.equal(r.degraded, true);
      assert.equal(r.failures[0]?.stage, 'judge');
    }
  });
});
