// User memory in context assembly (inference/saga/memory-context.ts, through system-turn.ts): the
// facts take at most their share of the context, the newest kept, so long facts never fail a turn.
// A word-counting stand-in model makes every number exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatModel, ChatTurnMessage, Thread } from '../../inference/saga/context-assembly.ts';
import { capMemories, MEMORY_CONTEXT_SHARE } from '../../inference/saga/memory-context.ts';
import { fitWithSummary } from '../../inference/saga/summary-context.ts';
import { withSystemTurn } from '../../inference/saga/system-turn.ts';

// One token per word.
const words = (t: string) => t.split(/\s+/).filter(Boolean);
const model = (contextLength: number): ChatModel => ({
  config: { contextLength },
  tokenizer: { encode: (t) => words(t).map(() => 1) },
  applyChatTemplate: (m: ChatTurnMessage[]) => m.flatMap((x) => [0, ...words(x.content).map(() => 1)]),
});
// "- factN" + 49 words: 51 tokens a line
const fact = (i: number) => ({ memoryId: `m${i}`, text: `fact${i} ${'word '.repeat(49)}`.trim(), savedAt: `2026-01-0${i}T00:00:00Z` });
const facts = [1, 2, 3, 4, 5].map(fact);
const thread: Thread = { systemPrompt: null, turns: [{ messageId: 'q', user: 'Hello', assistant: null }] };

test('the facts that fit a quarter of the context are kept, newest first, in the order saved', () => {
  // share of 400 = 100 tokens: the header (6) and one line (51) fit, a second line does not
  assert.equal(MEMORY_CONTEXT_SHARE, 0.25);
  assert.deepEqual(capMemories(model(400), facts).map((f) => f.memoryId), ['m5']);
  // share of 1000 = 250: four lines (6 + 4 × 51 = 210)
  assert.deepEqual(capMemories(model(1000), facts).map((f) => f.memoryId), ['m2', 'm3', 'm4', 'm5']);
  assert.deepEqual(capMemories(model(10_000), facts), facts, 'all of them when they fit');
});

test('long facts no longer stop a turn: the context is assembled with the facts that fit', () => {
  const m = model(400);
  const ctx = fitWithSummary(m, withSystemTurn(m, thread, { memories: facts, sources: [], tools: [], toolsPrompt: null }), 100, []);
  assert.deepEqual(ctx.includedMessageIds, ['q']);
  assert.ok(ctx.promptTokens <= 300, `${ctx.promptTokens} prompt tokens`);
});
