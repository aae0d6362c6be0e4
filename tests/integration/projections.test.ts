import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { CommandHandler } from '../../commands/command-handler.ts';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { ProjectionRunner, projectionLag, projections, setupProjections } from '../../projections/index.ts';
import { waitForProjection } from '../../projections/projection-runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { alice, bob, compliance, metadata } from '../support/events.ts';
import { applyContextOf, type Projection } from '../../projections/projection.ts';

describe('projection runner', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let knex: Knex;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100 }).start();
    knex = createKnex(db.url);
    await setupProjections(knex);
  });
  after(async () => { await knex.destroy(); await store.close(); await db.drop(); });

  it('two runner processes on one database never apply the same batch twice', async () => {
    const handler = new CommandHandler({ store });
    const conversationId = randomUUID();
    await handler.execute({ type: 'StartConversation', data: { conversationId }, metadata: { commandId: randomUUID(), actor: alice } });
    const runners = [1, 2].map(() => new ProjectionRunner({ knex, store, projections, batchSize: 3 }));
    for (const r of runners) r.start();
    const n = 40;
    let last = '';
    for (let i = 0; i < n; i++) {
      const r = await handler.execute({ type: 'SubmitMessage', data: { conversationId, messageId: `m${i}`, generationId: `g${i}`, content: `message ${i}` }, metadata: { commandId: randomUUID(), actor: alice } });
      assert.ok(r.ok);
      last = r.position;
    }
    assert.ok(await waitForProjection(knex, 'history', last, 20_000));
    await Promise.all(runners.map((r) => r.stop()));
    const conv = await knex('history_conversations').where({ id: conversationId }).first();
    assert.equal(conv.message_count, n, 'a doubly applied batch would double-count');
    const applied = await knex('parley_checkpoints').where({ name: 'history' }).first();
    assert.equal(Number(applied.events_applied), n + 1);
    assert.deepEqual(await projectionLag(knex, 'history'), { events: 0, seconds: 0 });
  });

  it('batches without a consumer\'s types skip the checkpoint transaction; it still catches up and applies its own events once', async () => {
    // A projection that cares only for ConversationRenamed: most batches hold none of it.
    const own = createKnex(db.url);
    try {
      let saves = 0;
      own.on('query', (q: { sql: string }) => { if (/^update "parley_checkpoints"/.test(q.sql)) saves++; });
      const renames: string[] = [];
      const rare: Projection = {
        name: `rare-${randomUUID().slice(0, 8)}`, tables: [], types: ['ConversationRenamed'],
        createTables: async () => {},
        apply: async (_trx, events) => { for (const e of events) renames.push((e.data as { title: string }).title); },
      };
      const handler = new CommandHandler({ store });
      const conversationId = randomUUID();
      await handler.execute({ type: 'StartConversation', data: { conversationId }, metadata: { commandId: randomUUID(), actor: alice } });
      let last = '';
      const n = 30;
      for (let i = 0; i < n; i++) {
        const r = i % 10 === 9
          ? await handler.execute({ type: 'RenameConversation', data: { conversationId, title: `title ${i}` }, metadata: { commandId: randomUUID(), actor: alice } })
          : await handler.execute({ type: 'SubmitMessage', data: { conversationId, messageId: `r${i}`, generationId: `rg${i}`, content: `m ${i}` }, metadata: { commandId: randomUUID(), actor: alice } });
        assert.ok(r.ok, JSON.stringify(r));
        last = r.position;
      }
      for (let i = 0; i < 10; i++) {
        const r = await handler.execute({ type: 'SubmitMessage', data: { conversationId, messageId: `t${i}`, generationId: `tg${i}`, content: 'tail' }, metadata: { commandId: randomUUID(), actor: alice } });
        assert.ok(r.ok);
        last = r.position;
      }
      // 41 events in batches of 3: the old consumer saved its checkpoint at least once per batch (14+)
      const runners = [1, 2].map(() => new ProjectionRunner({ knex: own, store, projections: [rare], batchSize: 3 }));
      for (const r of runners) r.start();
      // the tail holds none of its types: the idle save still brings the table's checkpoint to the head
      assert.ok(await waitForProjection(knex, rare.name, last, 10_000), 'the checkpoint never reached the head');
      await Promise.all(runners.map((r) => r.stop()));
      assert.deepEqual(renames, ['title 9', 'title 19', 'title 29'], 'each rename applied exactly once, in order');
      assert.ok(saves < 14, `${saves} checkpoint saves for 14 batches`);
      assert.deepEqual(await projectionLag(knex, rare.name), { events: 0, seconds: 0 });
    } finally {
      await own.destroy();
    }
  });

  it('read-your-writes: many waiters share one checkpoint poll; an unreached position times out', async () => {
    const own = createKnex(db.url); // its own watcher, so the queries counted are only these waiters'
    try {
      let polls = 0;
      own.on('query', (q: { sql: string }) => { if (/parley_checkpoints/.test(q.sql)) polls++; });
      await knex('parley_checkpoints').insert({ name: 'watch-test', position: '0/0' });
      const waiters = Array.from({ length: 50 }, () => waitForProjection(own, 'watch-test', '100/5', 10_000));
      await new Promise((r) => setTimeout(r, 50));
      await knex('parley_checkpoints').where({ name: 'watch-test' }).update({ position: '100/7' });
      assert.deepEqual(await Promise.all(waiters), Array(50).fill(true));
      assert.ok(polls < 50, `${polls} checkpoint reads for 50 waiters`);
      assert.equal(await waitForProjection(own, 'watch-test', '101/1', 100), false);
      assert.equal(await waitForProjection(own, 'watch-test', '100/7', 100), true);
    } finally {
      await own.destroy();
    }
  });

  it('builds the audit trail without content, filterable, and lags are measurable', async () => {
    const text = 'how do I pick a lock';
    const safety = (actor = alice, verdict: 'blocked' | 'allowed' = 'blocked') => ({
      type: 'SafetyChecked', version: 1,
      data: {
        conversationId: 'c1', messageId: 'm1', generationId: null, stage: 'input', verdict,
        categories: [{ category: 'dangerous', score: verdict === 'blocked' ? 0.9 : 0.1, severity: verdict === 'blocked' ? 'HIGH' : 'NEGLIGIBLE', blocked: verdict === 'blocked' }],
        policyVersion: 'policy-2026-11', latencyMs: 0.4, degraded: false,
        contentHash: createHash('sha256').update(text).digest('hex'),
      },
      metadata: metadata(actor),
    });
    await store.append(`conversation-${randomUUID()}`, [safety(), safety(alice, 'allowed')], { expectedRevision: 'any' });
    const r = await store.append(`conversation-${randomUUID()}`, [safety(bob)], { expectedRevision: 'any' });
    const runner = new ProjectionRunner({ knex, store, projections });
    const lag = await projectionLag(knex, 'audit');
    assert.ok(lag.events >= 3);
    runner.start();
    assert.ok(await waitForProjection(knex, 'audit', r.position));
    await runner.stop();
    const rows = await knex('audit_log').where({ event_type: 'SafetyChecked' }).orderBy('seq');
    assert.deepEqual(rows.map((x) => [x.user_id, x.verdict, x.policy_version]), [
      ['alice', 'blocked', 'policy-2026-11'], ['alice', 'allowed', 'policy-2026-11'], ['bob', 'blocked', 'policy-2026-11'],
    ]);
    assert.ok(!JSON.stringify(rows).includes(text), 'no content in the audit trail');
    assert.deepEqual(rows[0].flagged_categories, ['dangerous']);
    assert.deepEqual(rows[1].flagged_categories, []);
  });
});

// Projections apply a batch with a few multi-row statements; the tables must not depend on where
// the batches are cut: one event at a time (the runner catching up live), odd-sized batches, and
// the whole log at once (a rebuild) give the same rows.
for (const encrypted of [false, true]) describe(`projections: any batching gives the same read model${encrypted ? ' (text sealed)' : ''}`, () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let knex: Knex;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100, ...(encrypted ? { encryption: { masterKey: randomBytes(32) } } : {}) }).start();
    knex = createKnex(db.url);
    await setupProjections(knex);
  });
  after(async () => { await knex.destroy(); await store.close(); await db.drop(); });

  // Two days of chat by two users: retries, cancellations, failures, feedback given twice, renames,
  // deletion, an appeal filed and resolved, safety decisions on both stages.
  async function writeLog(): Promise<void> {
    let clock = Date.parse('2026-11-27T23:58:00Z');
    const handler = new CommandHandler({ store, now: () => new Date((clock += 7_000)) });
    const ok = (rs: { ok: boolean }[]) => { for (const r of rs) assert.ok(r.ok, JSON.stringify(r)); };
    const cmd = (type: string, data: object, actor = alice) => ({ type, data, metadata: { commandId: randomUUID(), actor } });
    const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 16, seed: null, stop: [] };
    const safety = (stage: 'input' | 'output', c: string, m: string | null, g: string, verdict: 'allowed' | 'blocked') => ({
      type: 'SafetyChecked', version: 1, metadata: metadata({ userId: 'saga', tenantId: 't1', roles: ['admin'] }),
      data: {
        conversationId: c, messageId: m, generationId: g, stage, verdict, policyVersion: 'p1', latencyMs: 0.1, degraded: false,
        categories: [{ category: 'dangerous', score: verdict === 'blocked' ? 0.9 : 0.1, severity: verdict === 'blocked' ? 'HIGH' : 'NEGLIGIBLE', blocked: verdict === 'blocked' }],
        contentHash: createHash('sha256').update(`${c}${m}${g}`).digest('hex'),
      },
    });
    const convs = [[randomUUID(), alice], [randomUUID(), bob], [randomUUID(), alice]] as const;
    ok(await handler.executeMany(convs.map(([c, who], i) => [cmd('StartConversation', { conversationId: c, title: `chat ${i}`, systemPrompt: i ? null : 'Be brief.' }, who)])));
    for (let turn = 0; turn < 4; turn++) {
      const turns = convs.map(([c, who]) => ({ c, who, m: randomUUID(), g: randomUUID() }));
      ok(await handler.executeMany(turns.map(({ c, who, m, g }) => [cmd('SubmitMessage', { conversationId: c, messageId: m, generationId: g, content: `turn ${turn} in ${c}` }, who)])));
      ok(await handler.executeMany(turns.map(({ c, who, m, g }, i) => [cmd('RequestGeneration', {
        generationId: g, conversationId: c, messageId: m, ownerId: who.userId, tenantId: who.tenantId, model: 'parley-tiny', params,
        context: { includedMessageIds: [m], droppedMessageIds: [], promptTokens: 3 + turn }, siblingOf: null,
        // Generations of an A/B experiment (the experiments projection), one served by a fallback.
        ...(turn % 2 === 0 ? { experiment: { name: 'ab', arm: i === 0 ? 'control' : 'candidate' }, ...(i === 2 ? { fallbackFrom: 'big' } : {}) } : {}),
      }, who)]), { also: turns.map(({ c, m, g }, i) => ({ streamId: `conversation-${c}`, events: [safety('input', c, m, g, i === 1 && turn === 2 ? 'blocked' : 'allowed')], expectedRevision: 'any' as const })) }));
      for (const attempt of turn === 1 ? [1, 2] : [1]) {
        for (let k = 0; k < 3; k++) {
          ok(await handler.executeMany(turns.map(({ g, who }) => [cmd('AppendTokens', { generationId: g, attempt, firstIndex: k * 2, tokenIds: [1, 2], text: `a${attempt}w${k} ` }, who)])));
        }
      }
      const attempt = turn === 1 ? 2 : 1;
      const [first, second, third] = turns;
      ok(await handler.executeMany([
        [cmd('CompleteGeneration', { generationId: first!.g, attempt, finishReason: 'stop', usage: { promptTokens: 3 + turn, completionTokens: 6 }, ttftMs: 5, tpotMs: 2, workerId: 'w' }, first!.who)],
        [cmd('CancelGeneration', { generationId: second!.g, usage: turn % 2 ? null : { promptTokens: 4, completionTokens: 2 } }, second!.who)],
        turn === 3
          ? [cmd('FailGeneration', { generationId: third!.g, attempt, code: 'X', reason: 'worker lost' }, third!.who)]
          : [cmd('CompleteGeneration', { generationId: third!.g, attempt, finishReason: turn === 2 ? 'content_filter' : 'length', usage: { promptTokens: 3, completionTokens: 6 }, ttftMs: 4, tpotMs: 1, workerId: 'w' }, third!.who)],
      ]));
      ok(await handler.executeMany([], { also: [{ streamId: `generation-${first!.g}`, events: [safety('output', first!.c, null, first!.g, 'allowed')], expectedRevision: 'any' }] }));
      if (turn % 2 === 0) {
        // A tool round: two calls (one completes, one fails), then the continuation that answers.
        const f = first!;
        const call = (i: number, name: string, args: object) => cmd('RequestToolCall', { toolCallId: `${f.g}.c${i}`, generationId: f.g, messageId: f.m, round: 1, index: i, name, arguments: JSON.stringify(args) }, f.who);
        ok(await handler.executeMany([[call(0, 'calculator', { expression: `${turn}+1` }), call(1, 'convert_units', { value: 1, from: 'mi', to: 'parsec' })]]));
        ok(await handler.executeMany([[
          cmd('CompleteToolCall', { toolCallId: `${f.g}.c0`, generationId: f.g, name: 'calculator', result: `{"result":"${turn + 1}"}`, truncated: false, latencyMs: 0.25 }, f.who),
          cmd('FailToolCall', { toolCallId: `${f.g}.c1`, generationId: f.g, name: 'convert_units', code: 'TOOL_ERROR', message: 'unknown unit "parsec"', latencyMs: 0.5 }, f.who),
        ]]));
        const next = `${f.g}.t1`;
        ok(await handler.executeMany([[cmd('RequestGeneration', {
          generationId: next, conversationId: f.c, messageId: f.m, ownerId: f.who.userId, tenantId: f.who.tenantId, model: 'parley-tiny', params,
          context: { includedMessageIds: [f.m], droppedMessageIds: [], promptTokens: 9 }, siblingOf: null, continues: { generationId: f.g, rootGenerationId: f.g, round: 1 },
        }, f.who)]]));
        ok(await handler.executeMany([[
          cmd('AppendTokens', { generationId: next, attempt: 1, firstIndex: 0, tokenIds: [1, 2], text: `it is ${turn + 1}` }, f.who),
          cmd('CompleteGeneration', { generationId: next, attempt: 1, finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 2 }, ttftMs: 3, tpotMs: 1, workerId: 'w' }, f.who),
        ]]));
      }
      ok(await handler.executeMany([
        [cmd('GiveFeedback', { generationId: first!.g, rating: 'down', comment: 'meh' }, first!.who), cmd('GiveFeedback', { generationId: first!.g, rating: 'up', comment: turn ? null : 'good' }, first!.who)],
        [cmd('RenameConversation', { conversationId: second!.c, title: `renamed ${turn}` }, second!.who)],
      ]));
    }
    const blocked = (await store.readStream(`conversation-${convs[1][0]}`)).find((e) => e.type === 'SafetyChecked' && e.data.verdict === 'blocked')!;
    ok([await handler.execute(cmd('FileAppeal', { appealId: 'appeal-1', safetyEventId: blocked.metadata.eventId, reason: 'it was fine' }, bob))]);
    ok([await handler.execute(cmd('ResolveAppeal', { appealId: 'appeal-1', outcome: 'overturned' }, compliance))]);
    ok([await handler.execute(cmd('DeleteConversation', { conversationId: convs[2][0] }, alice))]);
  }

  let logWritten: Promise<void> | undefined;

  async function applyInBatches(p: Projection, size: number, suffix: string): Promise<Record<string, unknown[]>> {
    const names = Object.fromEntries(p.tables.map((t) => [t, `${t}_${suffix}`]));
    for (const t of Object.values(names)) await knex.raw(`drop table if exists ${t} cascade`);
    await p.createTables(knex, names);
    const events = (await store.readAll({ limit: 100_000 })).filter((e) => p.types.includes(e.type));
    for (let i = 0; i < events.length; i += size) await knex.transaction((trx) => p.apply(trx, events.slice(i, i + size), names, applyContextOf(store)));
    const out: Record<string, unknown[]> = {};
    for (const t of p.tables) out[t] = JSON.parse(JSON.stringify((await knex.raw(`select * from ${names[t]}`)).rows)).sort((a: object, b: object) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
    return out;
  }

  for (const p of projections) {
    it(`${p.name}: one event at a time, batches of 7 and one batch of everything give the same rows`, async () => {
      logWritten ??= writeLog();
      await logWritten;
      const single = await applyInBatches(p, 1, 'one');
      assert.ok(Object.values(single).some((rows) => rows.length > 0), 'the log reaches this projection');
      if (p.name === 'history') assert.equal((single.history_tool_calls ?? []).length, 4, 'the tool calls are in the read model');
      if (encrypted && (p.name === 'history' || p.name === 'rlhf')) assert.match(JSON.stringify(single), /"kid":"[^"]+"/, 'rows hold sealed text');
      assert.deepEqual(await applyInBatches(p, 7, 'seven'), single);
      assert.deepEqual(await applyInBatches(p, 100_000, 'all'), single);
    });
  }
});
