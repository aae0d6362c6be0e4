import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PLATFORM_TOOLS_FILE, platformTools } from '../../inference/model/platform-tools.ts';

// The shipped model is trained on inference/model/platform-tools.json (train.py's tool skills read it):
// if a tool's name, description or argument schema changes here and not there, the model is offered a
// prompt it was not trained on. Regenerate with `node --import tsx inference/model/platform-tools.ts`
// (and retrain, or accept the drift knowingly).
describe('the tools the model was trained on', () => {
  it('are the tools the saga offers, byte for byte', () => {
    const trained = JSON.parse(readFileSync(PLATFORM_TOOLS_FILE, 'utf8')) as unknown;
    assert.deepEqual(trained, platformTools());
    assert.deepEqual(platformTools().map((t) => t.function.name), ['calculator', 'convert_units', 'current_datetime', 'search_history', 'search_documents']);
  });
});
