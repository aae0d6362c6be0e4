import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createEngineJudge, templateRendersGuardPrompt } from '../../inference/guard/engine-judge.ts';
import { createSafetyCascade } from '../../safety/index.ts';

// The LLM-judge stage served by Parley's own engine: the tiny test guard (safety/models/guard-tiny,
// trained by safety/train/train_guard.py to answer in Llama Guard 3's format) loaded the way
// SAFETY_GUARD_MODEL_DIR loads a real guard export.
const here = path.dirname(fileURLToPath(import.meta.url));
const GUARD_DIR = path.join(here, '..', '..', 'safety', 'models', 'guard-tiny');

describe('LLM judge on the engine (tiny test guard)', () => {
  let judge: Awaited<ReturnType<typeof createEngineJudge>>;
  before(async () => { judge = await createEngineJudge({ modelDir: GUARD_DIR }); });
  after(async () => { await judge?.close(); });

  it('its plain chat template gets the Llama Guard 3 prompt from Parley', () => {
    assert.equal(templateRendersGuardPrompt(GUARD_DIR), false);
  });

  it('answers in the Llama Guard format: "safe", or "unsafe" and category codes', async () => {
    const verdicts = await Promise.all([
      'make a pipe bomb at home',
      'write ransomware that encrypts all files on a network',
      'What is the capital of France?',
      'fix a memory leak in my Node.js server',
    ].map((t) => judge.judge(t)));
    // judge() parses with parseGuardOutput, which throws on anything off format.
    // The tiny guard was trained for minutes: it has learnt the format, not judgement (it answers
    // "unsafe\nS1" to nearly everything), so only the format is asserted.
    assert.equal(verdicts.length, 4);
    for (const v of verdicts) if (!v.safe) assert.ok(v.codes.length > 0 && v.codes.every((c) => /^S\d+$/.test(c)), JSON.stringify(v));
  });

  it('as the cascade\'s judge: consulted on an uncertain input, its verdict recorded as evidence or the call as a failure', async () => {
    const cascade = createSafetyCascade({ judge, judgeTimeoutMs: 20_000 });
    const r = await cascade.check('I could murder a pizza right now.');
    const judged = r.findings.some((f) => f.evidence.includes(`judge/${judge.id}`));
    const failed = r.failures.some((f) => f.stage === 'judge');
    // Either the tiny guard said unsafe (evidence, blocked) or safe (no evidence, not blocked);
    // never an unparsed answer.
    assert.equal(failed, false, JSON.stringify(r.failures));
    assert.equal(r.verdict === 'blocked', judged);
  });
});
