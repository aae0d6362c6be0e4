import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

const exec = promisify(execFile);

// `parley model promote` runs the golden-set gate (inference/model/golden.jsonl; by default the
// per-skill gate CI runs) on the candidate: the random-weight model is refused with its failing items
// and nothing recorded; the shipped model passes, ModelPromoted is recorded with each skill's score and
// floor, and the running server takes it as its default.
describe('parley model promote: the golden-set gate', () => {
  let server: TestServer;
  let env: Record<string, string>;
  const MODELS = JSON.stringify({ 'parley-tiny': { dir: 'inference/model/parley-tiny' }, 'test-random': { dir: 'inference/model/test-random' } });
  before(async () => {
    // test-random is the configured default, so the promotion visibly moves it.
    server = await startTestServer({ env: { PARLEY_MODELS: MODELS, PARLEY_MODEL: 'test-random' } });
    env = { ...process.env, ...server.sharedEnv, PARLEY_MODELS: MODELS, PARLEY_HOME: mkdtempSync(path.join(os.tmpdir(), 'parley-promote-')) } as Record<string, string>;
  });
  after(async () => server?.stop());

  const promote = (name: string) => exec(process.execPath, ['bin/parley.mjs', 'model', 'promote', name], { env, maxBuffer: 16 << 20 })
    .then((r) => ({ code: 0, stdout: r.stdout }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout + e.stderr }));

  it('refuses the random-weight model, prints its failing items and records nothing', async () => {
    const r = await promote('test-random');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /REFUSED: test-random is below the floor of capitals, /);
    assert.match(r.stdout, /LOW {2}capitals: 0\/\d+ \(floor 0\.9\)/);
    assert.match(r.stdout, /FAIL \[\w[^\]]*\] user: .+\n\s+expected: .+\n\s+got: /);
    assert.deepEqual(await server.app.store.readStream('models'), []);
  });

  it('promotes the shipped model: ModelPromoted recorded, the running server\'s default follows', async () => {
    const r = await promote('parley-tiny');
    assert.equal(r.code, 0, r.stdout);
    const printed = /score: (\d+)\/(\d+)/.exec(r.stdout);
    assert.ok(printed, r.stdout);
    assert.match(r.stdout, /PROMOTED: parley-tiny is the default/);
    const events = await server.app.store.readStream('models');
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.type, 'ModelPromoted');
    if (e.type !== 'ModelPromoted') return;
    assert.equal(e.data.model, 'parley-tiny');
    assert.equal(e.data.previous, null);
    assert.deepEqual([e.data.passed, e.data.total], [Number(printed[1]), Number(printed[2])]);
    assert.equal(e.data.threshold, 0, 'the per-skill gate, not a whole-set share');
    assert.ok(e.data.skills && e.data.skills.length > 10);
    for (const s of e.data.skills) assert.ok(s.ok / s.n >= s.floor, `${s.skill} ${s.ok}/${s.n} below ${s.floor}`);
    assert.ok(e.data.skills.some((s) => s.skill === 'tool call: calculator'));
    assert.match(e.data.goldenSet, /^golden\.jsonl@sha256:[0-9a-f]{16}$/);
    assert.ok(e.metadata.actor.roles.includes('platform_operator'));

    // The server polls the `models` stream: its default becomes the promoted model.
    const gql = graphqlClient(server.url);
    const token = await server.token(alice);
    let def = '';
    for (let i = 0; i < 100 && def !== 'parley-tiny'; i++) {
      const m = await gql(token, '{ models { name default } }');
      def = m.data.models.find((x: { default: boolean }) => x.default)?.name;
      if (def !== 'parley-tiny') await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(def, 'parley-tiny');
    const sent = await gql(token, `mutation { sendMessage(input: { content: "Hi", params: { maxTokens: 4 } }) { conversation { model } } }`);
    assert.equal(sent.data.sendMessage.conversation.model, 'parley-tiny');
  });
});
