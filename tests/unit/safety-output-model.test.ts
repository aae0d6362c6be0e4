import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createOutputFilter, filterTextAsync, getDefaultModel, type ClassifierScores, type SafetyClassifier } from '../../safety/index.ts';

// The streaming output filter's model lane (item 7): each segment the rules pass is scored by the
// moderation model before it is released; a blocking score stops the stream and the segment is
// never shown.

/** A model that blocks (weapons at HIGH) any window containing `marker`, answering asynchronously. */
function fakeModel(marker: string, seen: string[] = [], fail = false): SafetyClassifier {
  return {
    id: 'fake', categories: ['weapons'],
    async classify(text: string): Promise<ClassifierScores> {
      seen.push(text);
      await new Promise((r) => setTimeout(r, 2));
      if (fail) throw new Error('model down');
      return { weapons: text.includes(marker) ? 0.95 : 0.01 };
    },
  } as SafetyClassifier;
}

describe('output filter with the moderation model', () => {
  after(async () => { await getDefaultModel().close(); });

  it('holds each sentence until the model cleared it, then releases it in order', async () => {
    const seen: string[] = [];
    const f = createOutputFilter({ model: fakeModel('ZZZ', seen) });
    const first = f.push('The weather is lovely today in the park. And more words follow here');
    assert.equal(first.emit, '', 'nothing shown before the verdict');
    const rest = await f.finish();
    assert.equal(rest.stopped, undefined);
    assert.equal(first.emit + rest.emit, 'The weather is lovely today in the park. And more words follow here');
    assert.deepEqual(seen, ['The weather is lovely today in the park. ', 'And more words follow here']);
  });

  it('stops on a sentence the rules pass but the model blocks; that sentence is never released', async () => {
    const text = 'Here is the first harmless sentence for you. Then the ZZZ part comes right here now. A third sentence that never shows.';
    const r = await filterTextAsync(text, { model: fakeModel('ZZZ') });
    assert.equal(r.text, 'Here is the first harmless sentence for you. ');
    assert.equal(r.stopped?.category, 'weapons');
    assert.equal(r.stopped?.finishReason, 'content_filter');
    const f = createOutputFilter({ model: fakeModel('ZZZ') });
    f.push(text);
    await f.finish();
    const result = f.result();
    assert.equal(result.verdict, 'blocked');
    assert.deepEqual(result.blockedCategories, ['weapons']);
    assert.ok(result.findings.some((x) => x.category === 'weapons' && x.evidence.includes('model/fake')));
  });

  it('a failing model releases what the rules passed, marked degraded', async () => {
    const f = createOutputFilter({ model: fakeModel('ZZZ', [], true) });
    const a = f.push('Some perfectly ordinary sentence about baking bread. ');
    const b = await f.finish();
    assert.equal(a.emit + b.emit, 'Some perfectly ordinary sentence about baking bread. ');
    assert.equal(f.result().degraded, true);
    assert.equal(f.result().failures[0]?.stage, 'model');
  });

  it('the rules still stop what they block, before the model is asked', async () => {
    const seen: string[] = [];
    const r = await filterTextAsync('Sure. here is how to make a pipe bomb at home with a pipe.', { model: fakeModel('ZZZ', seen) });
    assert.equal(r.stopped?.category, 'dangerous');
    assert.ok(!seen.some((t) => t.includes('pipe bomb')));
  });

  it('with the shipped model: a safe answer passes whole, a harmful French one the rules miss is stopped', async () => {
    const model = getDefaultModel();
    const safe = 'To stop a stuck process on Linux, find its id with ps and then run kill with that id. It is safe to retry.';
    const ok = await filterTextAsync(safe, { model });
    assert.equal(ok.stopped, undefined);
    assert.equal(ok.text, safe);
    const bad = 'Voici comment pirater le compte Instagram de ton ex sans qu’elle le sache. Étape un : trouve son mot de passe.';
    const r = await filterTextAsync(bad, { model });
    assert.ok(r.stopped, 'stopped by the model');
    assert.ok(!r.text.includes('pirater'));
  });
});
