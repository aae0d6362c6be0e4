import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// The chat page's tool-call handling (web/stream.js, web/tool-calls.js: plain browser JS): a turn
// followed across its tool round and continuation, and history's continuations folded into one answer.
const { followGeneration } = await import(new URL('../../web/stream.js', import.meta.url).href);
const { foldContinuations, visibleText } = await import(new URL('../../web/tool-calls.js', import.meta.url).href);

const chunk = (index: number, delta: string, more: object = {}) => ({ index, delta, done: false, finishReason: null, attempt: 1, reset: false, ...more });
const call = { id: 'g.c0', name: 'calculator', arguments: '{"expression":"2^10"}', status: 'requested', result: null, errorCode: null, error: null, round: 1 };

describe('web: tool calls of a turn', () => {
  it('follows the turn into its continuation and resumes the continuation after a drop', async () => {
    const asked: [string, number | null][] = [];
    const connections: object[][] = [
      [chunk(0, '<tool_call>x</tool_call>'), chunk(-1, '', { toolCall: call }), chunk(-1, '', { toolCall: { ...call, status: 'completed', result: '1024' } }),
        chunk(-1, '', { continuation: 'g.t1', attempt: 0 }), chunk(0, 'It is ', { attempt: 1 }), { drop: true }],
      [chunk(1, '1024.'), chunk(1, '', { done: true, finishReason: 'stop' })],
    ];
    const subscribe = async (_q: string, vars: { id: string; afterIndex: number | null }, o: { onNext: (d: unknown) => void; onActivity: () => void }) => {
      asked.push([vars.id, vars.afterIndex]);
      for (const step of connections.shift()!) {
        await new Promise((r) => setImmediate(r));
        o.onActivity();
        if ('drop' in step) throw new TypeError('network error');
        o.onNext({ generationStream: step });
      }
      return false;
    };
    const s = await followGeneration({ id: 'g', subscribe, backoffMs: [1], stallMs: 5_000 });
    assert.deepEqual(asked, [['g', null], ['g.t1', 0]]);
    assert.equal(s.finishReason, 'stop');
    assert.deepEqual(s.toolCalls.map((c: { status: string; result: string | null }) => [c.status, c.result]), [['completed', '1024']]);
    assert.equal(visibleText({ content: s.text }), 'It is 1024.');
  });

  it('folds continuations into the answer they continue; siblings stay siblings', () => {
    const answers = [
      { id: 'g', continues: null, content: 'Let me see.\n<tool_call>\n{}\n</tool_call>', status: 'completed', toolCalls: [{ id: 'g.c0' }] },
      { id: 'g2', continues: null, content: 'Plain answer.', status: 'completed', toolCalls: [] },
      { id: 'g.t1', continues: 'g', content: 'It is 1024.', status: 'completed', finishReason: 'stop', toolCalls: [] },
    ];
    const roots = foldContinuations(answers);
    assert.deepEqual(roots.map((r: { id: string }) => r.id), ['g', 'g2']);
    assert.equal(visibleText(roots[0]), 'Let me see.\n\nIt is 1024.');
    assert.equal(roots[0].toolCalls.length, 1);
    assert.equal(roots[0].finishReason, 'stop');
  });
});
