import type { Knex } from 'knex';
import type { ReadModelCipher } from '../eventstore/crypto/read-model-cipher.ts';
import { readCheckpoint } from '../eventstore/postgres/checkpoints.ts';
import { openRows } from './sealed-text.ts';
import { toolTurn, type ExportMessage, type ToolCallRow } from './rlhf-tool-turns.ts';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };
export type RlhfFormat = 'trl' | 'openai' | 'kto';

type GenerationRow = {
  id: string; conversation_id: string; message_id: string; included_message_ids: string[]; text: string;
  status: string; rating: 'up' | 'down' | null; seq: number; completed_seq: number | null; continues: string | null;
};

// Streams export records in a deterministic order (conversation, then message, then generation).
//  trl:    {prompt: [...], chosen: [assistant], rejected: [assistant]}              (TRL conversational preference)
//  openai: {input: {messages}, preferred_output: [...], non_preferred_output: [...]} (OpenAI preference fine-tuning)
//  kto:    {prompt: [...], completion: [assistant], label: boolean}                  (unpaired, KTO-style)
// Sealed text (sealed-text.ts) is opened with `cipher`, the data keys of the store that wrote it.
// Tool turns (rlhf-tool-turns.ts): a rated answer that called tools is written with its calls, their
// results and the continuations up to the turn's final answer; a rated continuation has the turn
// before it (the earlier rounds) in its prompt. Only answers to the same point of a turn are paired.
export async function* exportRlhf(knex: Knex, format: RlhfFormat, cipher: ReadModelCipher | null = null): AsyncGenerator<Record<string, unknown>> {
  const conversations = await openRows(cipher, 'rlhf_conversations',
    await knex('rlhf_conversations').where({ deleted: false }).orderBy('id').select('id', 'system_prompt', 'kid'), ['system_prompt']);
  for (const conv of conversations) {
    const messages = new Map<string, string>(
      (await openRows(cipher, 'rlhf_messages', await knex('rlhf_messages').where({ conversation_id: conv.id }).select('id', 'content', 'kid'), ['content']))
        .map((m) => [m.id, m.content]),
    );
    const generations: GenerationRow[] = await openRows(cipher, 'rlhf_generations',
      await knex('rlhf_generations').where({ conversation_id: conv.id }).orderBy('seq'), ['text', 'comment']);
    const calls = await openRows(cipher, 'rlhf_tool_calls',
      await knex('rlhf_tool_calls').where({ conversation_id: conv.id }).orderBy([{ column: 'generation_id' }, { column: 'idx' }]), ['arguments', 'result', 'error']) as (ToolCallRow & { kid: string | null })[];
    const callsOf = (g: GenerationRow) => calls.filter((c) => c.generation_id === g.id);
    const byId = new Map(generations.map((g) => [g.id, g]));
    const completed = generations.filter((g) => g.status === 'completed');
    // One generation's part of a turn: plain text, or its tool calls and their results.
    const segment = (g: GenerationRow): ExportMessage[] => (callsOf(g).length ? toolTurn(format, g.text, callsOf(g)) : [assistant(g.text)]);
    // The rest of the turn from g: g, then (if it called tools) its continuation, and so on.
    const completionOf = (g: GenerationRow): ExportMessage[] => {
      const out = segment(g);
      const next = callsOf(g).length ? completed.find((x) => x.continues === g.id) : undefined;
      return next ? [...out, ...completionOf(next)] : out;
    };
    // The turn before g: the generations it continues, first round first.
    const before = (g: GenerationRow): GenerationRow[] => {
      const prev = g.continues ? byId.get(g.continues) : undefined;
      return prev ? [...before(prev), prev] : [];
    };
    // The assistant turn shown for an earlier message: its latest completed answer.
    const answerTo = new Map<string, string>();
    for (const g of [...completed].sort((a, b) => (a.completed_seq ?? 0) - (b.completed_seq ?? 0))) answerTo.set(g.message_id, g.text);

    const promptFor = (g: GenerationRow): ExportMessage[] => {
      const earlier = before(g);
      const first = earlier[0] ?? g;
      const prompt: ExportMessage[] = conv.system_prompt ? [{ role: 'system', content: conv.system_prompt }] : [];
      for (const id of first.included_message_ids) {
        prompt.push({ role: 'user', content: messages.get(id) ?? '' });
        if (id !== g.message_id && answerTo.has(id)) prompt.push({ role: 'assistant', content: answerTo.get(id)! });
      }
      for (const x of earlier) prompt.push(...segment(x));
      return prompt;
    };
    const rated = completed.filter((g) => g.rating !== null);
    if (format === 'kto') {
      for (const g of rated) yield { prompt: promptFor(g), completion: completionOf(g), label: g.rating === 'up' };
      continue;
    }
    const byMessage = new Map<string, GenerationRow[]>();
    for (const g of rated) {
      const key = `${g.message_id}|${g.continues ?? ''}`;
      byMessage.set(key, [...(byMessage.get(key) ?? []), g]);
    }
    for (const group of byMessage.values()) {
      for (const chosen of group.filter((g) => g.rating === 'up')) {
        for (const rejected of group.filter((g) => g.rating === 'down')) {
          if (chosen.text === rejected.text) continue; // a pair of identical answers teaches nothing
          const prompt = promptFor(chosen);
          yield format === 'trl'
            ? { prompt, chosen: completionOf(chosen), rejected: completionOf(rejected) }
            : { input: { messages: prompt }, preferred_output: completionOf(chosen), non_preferred_output: completionOf(rejected) };
        }
      }
    }
  }
}

export async function rlhfExportPosition(knex: Knex): Promise<string> {
  return readCheckpoint(knex, 'rlhf');
}

const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
