import assert from 'node:assert/strict';
import type { Actor } from '../../schemas/common.ts';
import type { CommandHandler } from '../../commands/command-handler.ts';
import type { LoadedModel } from '../../inference/engine/model.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { until } from './until.ts';

// What a worker appends for a generation: its tokens, then its completion. Tests use it where the
// shipped model would not write the answer they need (a `<tool_call>`, a `[1]` citation).
export const TEST_WORKER: Actor = { userId: 'test-worker', tenantId: 'system', roles: ['admin', 'platform_operator'] };

export async function appendAnswer(commands: Pick<CommandHandler, 'executeAll'>, model: Pick<LoadedModel, 'tokenizer'>, generationId: string, text: string): Promise<void> {
  const tokenIds = model.tokenizer.encode(text);
  const meta = (k: string) => ({ commandId: `test:${k}:${generationId}`, actor: TEST_WORKER });
  const r = await commands.executeAll([
    { type: 'AppendTokens', data: { generationId, attempt: 1, firstIndex: 0, tokenIds, text }, metadata: meta('tokens') },
    { type: 'CompleteGeneration', data: { generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 1, completionTokens: tokenIds.length }, ttftMs: 1, tpotMs: 1, workerId: 'test' }, metadata: meta('complete') },
  ]);
  assert.ok(r.ok, JSON.stringify(r));
}

// The same, once the saga has requested the generation (the page sent the turn; the answer follows it).
export async function appendAnswerWhenRequested(app: { store: Pick<EventStore, 'readStream'>; commands: Pick<CommandHandler, 'executeAll'> }, model: Pick<LoadedModel, 'tokenizer'>, generationId: string, text: string): Promise<void> {
  await until(`${generationId} requested`, async () => (await app.store.readStream(`generation-${generationId}`)).length > 0);
  await appendAnswer(app.commands, model, generationId, text);
}
