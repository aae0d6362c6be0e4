import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { CommandHandler } from '../../commands/command-handler.ts';
import { ReadModelCipher } from '../../eventstore/crypto/read-model-cipher.ts';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { applyContextOf, liveNames } from '../../projections/projection.ts';
import { exportRlhf } from '../../projections/rlhf-export.ts';
import { rlhfProjection } from '../../projections/rlhf-projection.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { alice } from '../support/events.ts';

// The RLHF export writes tool turns in each format's own shape. The log is written through the
// commands (as the saga and workers write it) on an encrypting store, projected, then exported.
describe('RLHF export with tool turns', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let knex: Knex;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100, encryption: { masterKey: randomBytes(32) } }).start();
    knex = createKnex(db.url);
    await rlhfProjection.createTables(knex, liveNames(rlhfProjection));
    await writeLog();
    // The log's readers see a transaction once every older one in the cluster has ended (the xid
    // fence): with other databases busy, wait until the last append (the second rating) is visible.
    let events = (await store.readAll({ limit: 10_000 })).filter((e) => rlhfProjection.types.includes(e.type));
    for (let i = 0; i < 400 && events.filter((e) => e.type === 'FeedbackGiven').length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      events = (await store.readAll({ limit: 10_000 })).filter((e) => rlhfProjection.types.includes(e.type));
    }
    await knex.transaction((trx) => rlhfProjection.apply(trx, events, liveNames(rlhfProjection), applyContextOf(store)));
  });
  after(async () => { await knex.destroy(); await store.close(); await db.drop(); });

  // One question; two answers (a regenerated sibling): g1 answers at once (rated down), g2 calls the
  // calculator and a unit conversion that fails, and its continuation g2.t1 answers (g2 rated up).
  async function writeLog() {
    const handler = new CommandHandler({ store });
    let n = 0;
    const cmd = (type: string, data: object) => ({ type, data, metadata: { commandId: `c${n++}`, actor: alice } });
    const ok = (r: { ok: boolean }) => assert.ok(r.ok, JSON.stringify(r));
    const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 16, seed: null, stop: [] };
    const request = (generationId: string, extra: object = {}) => cmd('RequestGeneration', {
      generationId, conversationId: 'c1', messageId: 'm1', ownerId: 'alice', tenantId: 't1', model: 'parley-tiny', params,
      context: { includedMessageIds: ['m1'], droppedMessageIds: [], promptTokens: 3 }, ...extra,
    });
    const answer = async (generationId: string, text: string) => ok(await handler.executeAll([
      cmd('AppendTokens', { generationId, attempt: 1, firstIndex: 0, tokenIds: [1], text }),
      cmd('CompleteGeneration', { generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 1 }, ttftMs: 1, tpotMs: 1, workerId: 'w' }),
    ]));
    ok(await handler.execute(cmd('StartConversation', { conversationId: 'c1', title: 't', systemPrompt: 'Be exact.' })));
    ok(await handler.execute(cmd('SubmitMessage', { conversationId: 'c1', messageId: 'm1', generationId: 'g1', content: 'How far is 3 miles, times 2?' })));
    ok(await handler.execute(request('g1')));
    await answer('g1', 'About 10 km.');
    ok(await handler.execute(request('g2', { siblingOf: 'g1' })));
    await answer('g2', 'Let me check.\n<tool_call>\n{"name": "convert_units", "arguments": {"value": 3, "from": "mi", "to": "km"}}\n</tool_call>\n<tool_call>\n{"name": "convert_units", "arguments": {"value": 3, "from": "mi", "to": "parsec"}}\n</tool_call>');
    ok(await handler.executeAll([
      cmd('RequestToolCall', { toolCallId: 'g2.c0', generationId: 'g2', messageId: 'm1', round: 1, index: 0, name: 'convert_units', arguments: '{"value":3,"from":"mi","to":"km"}' }),
      cmd('RequestToolCall', { toolCallId: 'g2.c1', generationId: 'g2', messageId: 'm1', round: 1, index: 1, name: 'convert_units', arguments: '{"value":3,"from":"mi","to":"parsec"}' }),
    ]));
    ok(await handler.executeAll([
      cmd('CompleteToolCall', { toolCallId: 'g2.c0', generationId: 'g2', name: 'convert_units', result: '{"result":"4.828032"}', truncated: false, latencyMs: 0.1 }),
      cmd('FailToolCall', { toolCallId: 'g2.c1', generationId: 'g2', name: 'convert_units', code: 'TOOL_ERROR', message: 'unknown unit "parsec"', latencyMs: 0.1 }),
    ]));
    ok(await handler.execute(request('g2.t1', { continues: { generationId: 'g2', rootGenerationId: 'g2', round: 1 } })));
    await answer('g2.t1', 'Twice 3 miles is 9.656064 km.');
    ok(await handler.execute(cmd('GiveFeedback', { generationId: 'g1', rating: 'down' })));
    ok(await handler.execute(cmd('GiveFeedback', { generationId: 'g2', rating: 'up' })));
  }

  const rows = async (format: 'trl' | 'openai' | 'kto') => {
    const out = [];
    for await (const r of exportRlhf(knex, format, ReadModelCipher.of(store.keys!))) out.push(r);
    return out;
  };
  const prompt = [{ role: 'system', content: 'Be exact.' }, { role: 'user', content: 'How far is 3 miles, times 2?' }];

  it('trl: the chosen answer is the whole tool turn, calls with argument objects and role tool results', async () => {
    assert.deepEqual(await rows('trl'), [{
      prompt,
      chosen: [
        { role: 'assistant', content: 'Let me check.', tool_calls: [
          { type: 'function', function: { name: 'convert_units', arguments: { value: 3, from: 'mi', to: 'km' } } },
          { type: 'function', function: { name: 'convert_units', arguments: { value: 3, from: 'mi', to: 'parsec' } } },
        ] },
        { role: 'tool', name: 'convert_units', content: '{"result":"4.828032"}' },
        { role: 'tool', name: 'convert_units', content: '{"error":"TOOL_ERROR","message":"unknown unit \\"parsec\\""}' },
        { role: 'assistant', content: 'Twice 3 miles is 9.656064 km.' },
      ],
      rejected: [{ role: 'assistant', content: 'About 10 km.' }],
    }]);
  });

  it('openai: tool_calls with ids and JSON-string arguments, tool messages by tool_call_id', async () => {
    const [row] = await rows('openai') as Record<string, any>[];
    assert.deepEqual(row!.input, { messages: prompt });
    assert.deepEqual(row!.preferred_output.slice(0, 3), [
      { role: 'assistant', content: 'Let me check.', tool_calls: [
        { id: 'g2.c0', type: 'function', function: { name: 'convert_units', arguments: '{"value":3,"from":"mi","to":"km"}' } },
        { id: 'g2.c1', type: 'function', function: { name: 'convert_units', arguments: '{"value":3,"from":"mi","to":"parsec"}' } },
      ] },
      { role: 'tool', tool_call_id: 'g2.c0', content: '{"result":"4.828032"}' },
      { role: 'tool', tool_call_id: 'g2.c1', content: '{"error":"TOOL_ERROR","message":"unknown unit \\"parsec\\""}' },
    ]);
    assert.deepEqual(row!.preferred_output[3], { role: 'assistant', content: 'Twice 3 miles is 9.656064 km.' });
    assert.deepEqual(row!.non_preferred_output, [{ role: 'assistant', content: 'About 10 km.' }]);
  });

  it('kto: each rated answer with its whole turn', async () => {
    const out = await rows('kto') as Record<string, any>[];
    assert.deepEqual(out.map((r) => [r.label, r.completion.length]), [[false, 1], [true, 4]]);
  });

  it('the read model keeps tool arguments and results sealed', async () => {
    const stored = await knex('rlhf_tool_calls').orderBy('id');
    assert.equal(stored.length, 2);
    for (const r of stored) {
      assert.ok(r.kid);
      assert.doesNotMatch(`${r.arguments}${r.result ?? ''}${r.error ?? ''}`, /parsec|4\.828/);
    }
  });
});
