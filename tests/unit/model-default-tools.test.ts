import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Knex } from 'knex';
import { modelDefaultTools, sagaTools } from '../../bin/tools.ts';
import { RuntimeConfig } from '../../schemas/runtime-config.ts';

// Which server-side tools a tenant gets when nothing names them: with PARLEY_TOOLS=auto, the tools the
// model folder says it was validated on (config.json parley.tools); with `on`, the platform's four.
function modelDir(config: object): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-model-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{% if tools %}<tools>{% endif %}<tool_call>' }));
  return dir;
}
const noDatabase = {} as Knex; // the tools' searches are not run here
const offered = (env: Record<string, string>, dir: string, tenant = 'acme') =>
  sagaTools(RuntimeConfig.parse(env), dir, noDatabase, null)?.toolsFor(tenant).map((t) => t.name);

describe('default server-side tools of a model folder', () => {
  const validated = modelDir({ parley: { name: 'tiny', tools: ['calculator'] } });
  const unlisted = modelDir({ parley: { name: 'other' } });

  it('auto: a tenant that names no tools gets the ones the model lists', () => {
    assert.deepEqual(modelDefaultTools(validated), ['calculator']);
    assert.deepEqual(offered({ PARLEY_TOOLS: 'auto' }, validated), ['calculator']);
  });
  it('a model that lists none gets the platform defaults (a Qwen2.5 export, say)', () => {
    assert.deepEqual(offered({ PARLEY_TOOLS: 'auto' }, unlisted), ['calculator', 'convert_units', 'current_datetime', 'search_history']);
  });
  it('on: the platform defaults whatever the model lists; a tenant allow list and off still rule', () => {
    assert.deepEqual(offered({ PARLEY_TOOLS: 'on' }, validated), ['calculator', 'convert_units', 'current_datetime', 'search_history']);
    const tenants = JSON.stringify({ beta: { allow: ['convert_units', 'current_datetime'] }, gone: { enabled: false } });
    assert.deepEqual(offered({ PARLEY_TOOLS: 'auto', PARLEY_TENANT_TOOLS: tenants }, validated, 'beta'), ['convert_units', 'current_datetime']);
    assert.deepEqual(offered({ PARLEY_TOOLS: 'auto', PARLEY_TENANT_TOOLS: tenants }, validated, 'gone'), []);
    assert.equal(offered({ PARLEY_TOOLS: 'off' }, validated), undefined);
  });
  it('the shipped model lists the three tools it was validated on (npm run eval:tool-turns); a turn is offered those its message calls for', () => {
    const shipped = fileURLToPath(new URL('../../inference/model/parley-tiny', import.meta.url));
    assert.deepEqual(modelDefaultTools(shipped), ['calculator', 'convert_units', 'current_datetime']);
    assert.equal(sagaTools(RuntimeConfig.parse({}), shipped, noDatabase, null)?.selection, 'relevant');
    assert.equal(sagaTools(RuntimeConfig.parse({ PARLEY_TOOL_SELECTION: 'all' }), shipped, noDatabase, null)?.selection, 'all');
    assert.throws(() => RuntimeConfig.parse({ PARLEY_TOOL_SELECTION: 'some' }), /PARLEY_TOOL_SELECTION/);
  });
  it('a list naming an unknown tool stops the start with the file and the known names', () => {
    const bad = modelDir({ parley: { tools: ['calculator', 'weather'] } });
    assert.throws(() => modelDefaultTools(bad), (e: Error) => e.message.includes(path.join(bad, 'config.json')) && e.message.includes('convert_units'));
  });
});
