import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { alice } from '../support/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// SAFETY_GUARD_MODEL_DIR as an operator sets it: the server loads the guard with its engine and the
// default cascade sends uncertain inputs to it. The tiny test guard answers "unsafe\nS1" to
// nearly everything, so an input the rules and the model leave uncertain comes back flagged, and a
// clear one (no category even at LOW) never reaches the judge.
const here = path.dirname(fileURLToPath(import.meta.url));
const GUARD_DIR = path.join(here, '..', '..', 'safety', 'models', 'guard-tiny');

describe('SAFETY_GUARD_MODEL_DIR: the LLM judge in a running server', () => {
  let server: TestServer;
  let client: OpenAI;
  before(async () => {
    server = await startTestServer({ roles: ['api'], env: { SAFETY_GUARD_MODEL_DIR: GUARD_DIR } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(alice), maxRetries: 0 });
  });
  after(async () => { await server?.stop(); });

  it('flags an uncertain input on the judge\'s word and leaves clear ones alone', async () => {
    const r = await client.moderations.create({ input: ['I could murder a pizza right now.', 'What is the capital of France?'] });
    assert.deepEqual(r.results.map((x) => x.flagged), [true, false]);
    assert.equal((r.results[0]!.categories as unknown as Record<string, boolean>).dangerous, true);
  });
});
