import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandHandler } from '../../commands/command-handler.ts';
import { MAX_RECORDED_RESULT_CHARS, recordClientToolResults, type ResultOutcome } from '../../read-api/openai/client-tool-results.ts';
import { parseToolCallId, toolCallId } from '../../read-api/openai/tools.ts';
import { SamplingParams, type Actor } from '../../schemas/common.ts';
import { alice, bob } from '../support/events.ts';
import { MemoryEventStore } from '../support/streams-fixtures.ts';

// The client's tool results on the command handler and the generation decider (in memory): each
// result recorded once on its call, re-sent ones skipped, unknown and foreign ids left alone.
const worker: Actor = { userId: 'w', tenantId: 'system', roles: ['admin' as const, 'platform_operator' as const] };
const logger = { warn: () => {}, info: () => {} };

async function generationWithCalls(commands: CommandHandler, g: string, names: string[]) {
  const meta = (id: string, actor: Actor = worker) => ({ commandId: id, actor });
  const ok = (r: { ok: boolean }) => assert.ok(r.ok, JSON.stringify(r));
  ok(await commands.execute({ type: 'RequestGeneration', data: {
    generationId: g, conversationId: 'c1', messageId: 'm1', ownerId: alice.userId, tenantId: alice.tenantId, model: 'parley-tiny',
    params: SamplingParams.parse({ clientTools: names }), context: { includedMessageIds: ['m1'], droppedMessageIds: [], promptTokens: 3 },
  }, metadata: meta(`req-${g}`) }));
  ok(await commands.execute({ type: 'CompleteGeneration', data: { generationId: g, attempt: 1, finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 9 }, ttftMs: 1, tpotMs: 1, workerId: 'w' }, metadata: meta(`done-${g}`) }));
  for (const [index, name] of names.entries()) {
    ok(await commands.execute({ type: 'RequestToolCall', data: { toolCallId: toolCallId(g, index), generationId: g, messageId: 'm1', round: 1, index, name, arguments: '{}' }, metadata: meta(`call-${g}-${index}`, alice) }));
  }
}

describe('client tool results (recordClientToolResults)', () => {
  it('call ids name their generation and index, and only Parley\'s do', () => {
    assert.deepEqual(parseToolCallId(toolCallId('5f0c6a2e-1b7d-4c1a-9e7e-0d7f4c1f2a3b', 3)), { generationId: '5f0c6a2e-1b7d-4c1a-9e7e-0d7f4c1f2a3b', index: 3 });
    assert.deepEqual(parseToolCallId(toolCallId('g_with_underscores', 0)), { generationId: 'g_with_underscores', index: 0 });
    assert.equal(parseToolCallId('call_abc123'), null);
    assert.equal(parseToolCallId('toolu_01'), null);
  });

  it('records each result once on its call; re-sent, unknown and foreign ids are not recorded and never throw', async () => {
    const store = new MemoryEventStore();
    const commands = new CommandHandler({ store });
    await generationWithCalls(commands, 'g1', ['add', 'get_weather']);
    const counted: ResultOutcome[] = [];
    const deps = { store, commands, logger, count: (o: ResultOutcome) => counted.push(o), now: () => Date.now() + 1500 };
    const [c0, c1] = [toolCallId('g1', 0), toolCallId('g1', 1)];
    const long = 'x'.repeat(MAX_RECORDED_RESULT_CHARS + 10);

    assert.deepEqual(await recordClientToolResults(deps, bob, 'r0', [{ toolCallId: c0, content: 'forged' }]), ['unknown'], 'bob cannot answer alice\'s call');
    assert.deepEqual(await recordClientToolResults(deps, alice, 'r1', [{ toolCallId: c0, content: '5' }, { toolCallId: c1, content: long }, { toolCallId: 'call_never_0', content: '?' }, { toolCallId: 'foreign-id', content: '?' }]),
      ['unknown', 'recorded', 'recorded', 'unknown']);
    assert.deepEqual(await recordClientToolResults(deps, alice, 'r2', [{ toolCallId: c0, content: 'edited' }, { toolCallId: c1, content: 'x' }]), ['duplicate', 'duplicate']);
    const results = (await store.readStream('generation-g1')).filter((e) => e.type === 'ToolCallCompleted');
    assert.equal(results.length, 2);
    const [r0, r1] = results.map((e) => (e.type === 'ToolCallCompleted' ? e.data : null)!);
    assert.deepEqual([r0.toolCallId, r0.name, r0.result, r0.truncated, r0.ownerId], [c0, 'add', '5', false, alice.userId]);
    assert.ok(r0.latencyMs >= 1500, 'from the call to the result');
    assert.deepEqual([r1.name, r1.result.length, r1.truncated], ['get_weather', MAX_RECORDED_RESULT_CHARS, true]);
    assert.equal(results[0]!.metadata.commandId, `openai:tool-result:${c0}`);
    assert.equal(counted.filter((o) => o === 'unknown').length, 3);
  });

  it('a store that fails is logged, not thrown: the request goes on', async () => {
    const store = new MemoryEventStore();
    const commands = new CommandHandler({ store });
    let warned = 0;
    const broken = { readStream: async () => { throw new Error('database down'); } };
    const out = await recordClientToolResults({ store: broken, commands, logger: { info: () => {}, warn: () => { warned++; } } }, alice, 'r', [{ toolCallId: toolCallId('g9', 0), content: '1' }]);
    assert.deepEqual(out, []);
    assert.equal(warned, 1);
  });
});
