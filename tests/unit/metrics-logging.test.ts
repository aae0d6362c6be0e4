import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { routeOf, Metrics } from '../../read-api/http/metrics.ts';
import { createLogger } from '../../read-api/observability/logger.ts';

describe('logs and metric labels', () => {
  it('JSON lines with level and time; message text is redacted wherever a caller puts it', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
    const log = createLogger({ level: 'info', role: 'api', destination: out });
    log.info({ correlationId: 'c-1', content: 'my secret question', input: { messages: ['hi'], text: 'also secret' }, authorization: 'Bearer abc' }, 'chat completion');
    log.debug({ correlationId: 'c-2' }, 'not at info');
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!);
    assert.equal(line.level, 'info');
    assert.equal(line.role, 'api');
    assert.equal(line.correlationId, 'c-1');
    assert.ok(!lines[0]!.includes('secret') && !lines[0]!.includes('abc'), lines[0]);
  });

  it('route labels are bounded (ids never become label values)', () => {
    assert.equal(routeOf('/v1/chat/completions'), '/v1/chat/completions');
    assert.equal(routeOf('/v1/models/parley-tiny'), '/v1/models/:id');
    assert.equal(routeOf('/conversation/123e4567'), 'other');
  });

  it('safety decisions: blocked by the blocking categories, flagged by the top score, allowed as none', async () => {
    const m = new Metrics();
    m.safety('input', 'blocked', [{ category: 'dangerous', score: 0.9, blocked: true }, { category: 'hate', score: 0.2, blocked: false }]);
    m.safety('output', 'flagged', [{ category: 'pii', score: 0.6, blocked: false }, { category: 'hate', score: 0.1, blocked: false }]);
    m.safety('input', 'allowed', [{ category: 'hate', score: 0.01, blocked: false }]);
    const text = await m.registry.getSingleMetricAsString('parley_safety_decisions_total');
    assert.match(text, /parley_safety_decisions_total\{stage="input",verdict="blocked",category="dangerous"\} 1/);
    assert.match(text, /parley_safety_decisions_total\{stage="output",verdict="flagged",category="pii"\} 1/);
    assert.match(text, /parley_safety_decisions_total\{stage="input",verdict="allowed",category="none"\} 1/);
    assert.doesNotMatch(text, /category="hate"/);
  });
});
