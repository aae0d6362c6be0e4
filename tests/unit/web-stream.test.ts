import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// The chat page's stream follower (web/stream.js, plain browser JS) against a scripted transport:
// drops, duplicates, retries and resets happen exactly where the test puts them.
const { followGeneration } = await import(new URL('../../web/stream.js', import.meta.url).href);
const { ApiError } = await import(new URL('../../web/api.js', import.meta.url).href);

type Chunk = { index: number; delta: string; done?: boolean; finishReason?: string | null; attempt?: number; reset?: boolean; category?: string | null; error?: string | null };
type Step = Chunk | { drop: true } | { fail: InstanceType<typeof ApiError> } | { hang: true } | { complete: true };

const chunk = (index: number, delta: string, more: Partial<Chunk> = {}): Chunk => ({ index, delta, done: false, finishReason: null, attempt: 1, reset: false, ...more });
const done = (index: number, finishReason = 'stop', more: Partial<Chunk> = {}): Chunk => chunk(index, '', { done: true, finishReason, ...more });

// Each call of subscribe plays the next connection's steps; records the afterIndex it was asked for.
function transport(connections: Step[][]) {
  const asked: (number | null)[] = [];
  const attempts: (number | null)[] = [];
  const subscribe = async (_q: string, vars: { id: string; afterIndex: number | null; attempt: number | null }, o: { signal: AbortSignal; onNext: (d: unknown) => void; onActivity: () => void }) => {
    asked.push(vars.afterIndex);
    attempts.push(vars.attempt);
    const steps = connections.shift();
    if (!steps) throw new Error('test: no more connections scripted');
    for (const step of steps) {
      if (o.signal.aborted) throw new DOMException('aborted', 'AbortError');
      await new Promise((r) => setImmediate(r));
      o.onActivity();
      if ('drop' in step) throw new TypeError('network error');
      if ('fail' in step) throw step.fail;
      if ('complete' in step) return true;
      if ('hang' in step) {
        // Hangs until aborted — or ends at once when the abort came while this step was scheduled
        // (a listener added after the abort would never fire: seen on a machine at load 17).
        await new Promise((_, reject) => {
          const abort = () => reject(new DOMException('aborted', 'AbortError'));
          if (o.signal.aborted) abort(); else o.signal.addEventListener('abort', abort, { once: true });
        });
      }
      if ('index' in step) o.onNext({ generationStream: step });
    }
    return false;
  };
  return { subscribe, asked, attempts };
}

const fast = { backoffMs: [1], stallMs: 5_000 };

describe('web/stream.js: following a generation', () => {
  it('appends the deltas in order and stops at done', async () => {
    const t = transport([[chunk(0, 'Hel'), chunk(2, 'lo '), chunk(3, 'world'), done(3)]]);
    const updates: string[] = [];
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, onUpdate: (st: { text: string }) => updates.push(st.text), ...fast });
    assert.equal(s.text, 'Hello world');
    assert.equal(s.finishReason, 'stop');
    assert.deepEqual(t.asked, [null]);
    assert.deepEqual(updates.filter((u, i) => u && u !== updates[i - 1]), ['Hel', 'Hello ', 'Hello world'], 'the text grows chunk by chunk');
  });

  it('resumes after a dropped connection from the last index seen, without losing or repeating text', async () => {
    const t = transport([
      [chunk(0, 'The '), chunk(1, 'quick '), { drop: true }],
      // The server resends the chunk at index 1 (it straddled the drop): it must not show twice.
      [chunk(1, 'quick '), chunk(2, 'brown '), { drop: true }],
      [{ drop: true }],
      [chunk(3, 'fox'), done(3)],
    ]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, ...fast });
    assert.equal(s.text, 'The quick brown fox');
    assert.deepEqual(t.asked, [null, 1, 2, 2]);
    assert.deepEqual(t.attempts, [null, 1, 1, 1], 'the attempt those indexes belong to goes along');
    assert.equal(s.reconnects, 3);
  });

  it('a stream that ends without done is resumed too', async () => {
    const t = transport([[chunk(0, 'a'), { complete: true }], [chunk(1, 'b'), done(1)]]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, ...fast });
    assert.equal(s.text, 'ab');
    assert.deepEqual(t.asked, [null, 0]);
  });

  it('reset: true drops the text shown so far (a retried attempt)', async () => {
    const t = transport([[chunk(0, 'Wrong '), chunk(1, 'start'), chunk(0, 'Right ', { attempt: 2, reset: true }), chunk(1, 'answer', { attempt: 2 }), done(1, 'stop', { attempt: 2 })]]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, ...fast });
    assert.equal(s.text, 'Right answer');
    assert.equal(s.attempt, 2);
  });

  it('a newer attempt met after a reconnect (its reset missed) is replayed from the start', async () => {
    const t = transport([
      [chunk(0, 'old '), chunk(1, 'text'), { drop: true }],
      [chunk(2, 'mid', { attempt: 2 })], // indexes of attempt 2 do not continue attempt 1's text
      [chunk(0, 'new ', { attempt: 2, reset: true }), chunk(1, 'text', { attempt: 2 }), chunk(2, '!', { attempt: 2 }), done(2, 'stop', { attempt: 2 })],
    ]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, ...fast });
    assert.equal(s.text, 'new text!');
    assert.deepEqual(t.asked, [null, 1, null]);
    assert.deepEqual(t.attempts, [null, 1, null]);
  });

  it('replaces text taken from the history with the replay (reload during a generation)', async () => {
    const t = transport([[chunk(0, 'Hi'), chunk(1, ' there'), done(1)]]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, replaceShownText: true, ...fast });
    assert.equal(s.text, 'Hi there');
  });

  it('reports content_filter with its category, and cancelled', async () => {
    const blocked = await followGeneration({ id: 'g', subscribe: transport([[chunk(0, 'ok so'), done(0, 'content_filter', { category: 'violence' })]]).subscribe, ...fast });
    assert.equal(blocked.finishReason, 'content_filter');
    assert.equal(blocked.category, 'violence');
    const cancelled = await followGeneration({ id: 'g', subscribe: transport([[chunk(0, 'partial'), done(0, 'cancelled')]]).subscribe, ...fast });
    assert.equal(cancelled.finishReason, 'cancelled');
    assert.equal(cancelled.text, 'partial');
  });

  it('a GraphQL error such as NOT_FOUND ends the stream; a server hiccup is retried, but not forever', async () => {
    const t = transport([[{ fail: new ApiError('generation not found', 'NOT_FOUND') }]]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, ...fast });
    assert.equal(s.finishReason, 'error');
    assert.equal(s.errorCode, 'NOT_FOUND');
    assert.deepEqual(t.asked, [null]);

    const flaky = transport([[{ fail: new ApiError('internal error', 'INTERNAL') }], [chunk(0, 'fine'), done(0)]]);
    assert.equal((await followGeneration({ id: 'g', subscribe: flaky.subscribe, ...fast })).text, 'fine');

    const broken = transport(Array.from({ length: 20 }, () => [{ fail: new ApiError('internal error', 'INTERNAL') }]));
    const gaveUp = await followGeneration({ id: 'g', subscribe: broken.subscribe, ...fast });
    assert.equal(gaveUp.finishReason, 'error');
    assert.ok(broken.asked.length < 10, `gave up after ${broken.asked.length} tries`);
  });

  it('a silent connection (no ping) is treated as dead and resumed', async () => {
    const t = transport([[chunk(0, 'a'), { hang: true }], [chunk(1, 'b'), done(1)]]);
    const s = await followGeneration({ id: 'g', subscribe: t.subscribe, backoffMs: [1], stallMs: 50 });
    assert.equal(s.text, 'ab');
    assert.deepEqual(t.asked, [null, 0]);
  });

  it('stops when the page aborts it (another conversation opened)', async () => {
    const controller = new AbortController();
    const t = transport([[chunk(0, 'a'), { hang: true }]]);
    const following = followGeneration({ id: 'g', subscribe: t.subscribe, signal: controller.signal, ...fast });
    setTimeout(() => controller.abort(), 20);
    const s = await following;
    assert.equal(s.done, false);
    assert.equal(s.connection, 'closed');
    assert.deepEqual(t.asked, [null]);
  });
});
