import { packTokenIds, unpackTokenIds } from '../../schemas/prompt.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderJsonSchemas } from '../../schemas/json-schema.ts';
import { eventTypes, ParleyEvent } from '../../schemas/events.ts';
import { upcast } from '../../schemas/upcasters.ts';

describe('event catalogue', () => {
  it('has checked-in JSON Schemas in sync with the zod schemas (run `npm run schemas`)', () => {
    const expected = renderJsonSchemas();
    const dir = new URL('../../schemas/json/', import.meta.url);
    assert.deepEqual(readdirSync(dir).sort(), Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) {
      assert.equal(readFileSync(new URL(file, dir), 'utf8'), text, `${file} is stale`);
    }
  });

  it('covers every event in the design', () => {
    for (const t of ['ConversationStarted', 'MessageSubmitted', 'SafetyChecked', 'GenerationRequested', 'TokensGenerated',
      'GenerationCompleted', 'GenerationFailed', 'GenerationCancelled', 'FeedbackGiven', 'ConversationRenamed',
      'ConversationDeleted', 'UserDataErased', 'AppealFiled', 'AppealResolved']) {
      assert.ok(eventTypes.includes(t as never), t);
    }
  });

  it('upcasts MessageSubmitted v1 to v2 and rejects unknown versions', () => {
    const metadata = { eventId: '3b241101-e2bb-4255-8caf-4136c566a962', correlationId: 'c', causationId: null, commandId: null,
      actor: { userId: 'u', tenantId: 't', roles: ['user'] }, occurredAt: '2026-01-01T00:00:00.000Z' };
    const v2 = upcast({ type: 'MessageSubmitted', version: 1, metadata,
      data: { conversationId: 'c', messageId: 'm', role: 'user', content: 'hi', params: { temperature: 0, topP: 1, topK: 0, maxTokens: 5, seed: null, stop: [] } } });
    assert.equal(v2.version, 2);
    assert.ok(ParleyEvent.safeParse(v2).success);
    assert.throws(() => upcast({ type: 'MessageSubmitted', version: 3, metadata, data: {} }), /newer/);
    assert.throws(() => upcast({ type: 'Nope', version: 1, metadata, data: {} }), /unknown event type/);
  });

  it('upcasts GenerationRequested v1 (no prompt) to v2 with the prompt, settings and input decision unknown', () => {
    const metadata = { eventId: '3b241101-e2bb-4255-8caf-4136c566a962', correlationId: 'c', causationId: null, commandId: null,
      actor: { userId: 'u', tenantId: 't', roles: ['user'] }, occurredAt: '2026-01-01T00:00:00.000Z' };
    const data = { generationId: 'g', conversationId: 'c', messageId: 'm', ownerId: 'u', tenantId: 't', model: 'parley-tiny',
      params: { temperature: 0, topP: 1, topK: 0, maxTokens: 5, seed: null, stop: [] },
      context: { includedMessageIds: ['m'], droppedMessageIds: [], promptTokens: 7 }, siblingOf: null, priority: 0, brownout: false };
    const v2 = upcast({ type: 'GenerationRequested', version: 1, metadata, data });
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.data, { ...data, prompt: null, safetySettings: null, inputCheck: null });
  });

  it('upcasts TokensGenerated v1 (ids in clear) to v2 with the ids packed into the sealed field and counted', () => {
    const metadata = { eventId: '3b241101-e2bb-4255-8caf-4136c566a963', correlationId: 'c', causationId: null, commandId: null,
      actor: { userId: 'w', tenantId: 'system', roles: ['admin'] }, occurredAt: '2026-01-01T00:00:00.000Z' };
    const v2 = upcast({ type: 'TokensGenerated', version: 1, metadata, data: { generationId: 'g', attempt: 1, firstIndex: 4, tokenIds: [7, 300, 5], text: 'abc', textOffsets: [0, 1, 2] } });
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.data, { generationId: 'g', attempt: 1, firstIndex: 4, tokenCount: 3, tokens: packTokenIds([7, 300, 5]), text: 'abc', textOffsets: [0, 1, 2] });
    assert.deepEqual(unpackTokenIds((v2.data as { tokens: string }).tokens), [7, 300, 5]);
  });
});
