import type { Knex } from 'knex';
import type { ReadModelCipher } from '../eventstore/crypto/read-model-cipher.ts';
import { readCheckpoint } from '../eventstore/postgres/checkpoints.ts';
import { openRows } from './sealed-text.ts';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };
export type RlhfFormat = 'trl' | 'openai' | 'kto';

type GenerationRow = {
  id: string; conversation_id: string; message_id: string; included_message_ids: string[]; text: string;
  status: string; rating: 'up' | 'down' | null; seq: number; completed_seq: number | null;
};

// Streams export records in a deterministic order (conversation, then message, then generation).
//  trl:    {prompt: [...], chosen: [assistant], rejected: [assistant]}              (TRL conversational preference)
//  openai: {input: {messages}, preferred_output: [...], non_preferred_output: [...]} (OpenAI preference fine-tuning)
//  kto:    {prompt: [...], completion: [assistant], label: boolean}                  (unpaired, KTO-style)
// Sealed text (sealed-text.ts) is opened with `cipher`, the data keys of the store that wrote it.
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
    const completed = generations.filter((g) => g.status === 'completed');
    // The assistant turn shown for an earlier message: its latest completed answer.
    const answerTo = new Map<string, string>();
    for (const g of [...completed].sort((a, b) => (a.completed_seq ?? 0) - (b.completed_seq ?? 0))) answerTo.set(g.message_id, g.text);

    const promptFor = (g: GenerationRow): ChatMessage[] => {
      const prompt: ChatMessage[] = conv.system_prompt ? [{ role: 'system', content: conv.system_prompt }] : [];
      for (const id of g.included_message_ids) {
        prompt.push({ role: 'user', content: messages.get(id) ?? '' });
        if (id !== g.message_id && answerTo.has(id)) prompt.push({ role: 'assistant', content: answerTo.get(id)! });
      }
      return prompt;
    };
    const rated = completed.filter((g) => g.rating !== null);
    if (format === 'kto') {
      for (const g of rated) yield { prompt: promptFor(g), completion: [assistant(g.text)], label: g.rating === 'up' };
      continue;
    }
    const byMessage = new Map<string, GenerationRow[]>();
    for (const g of rated) byMessage.set(g.message_id, [...(byMessage.get(g.message_id) ?? []), g]);
    for (const group of byMessage.values()) {
      for (const chosen of group.filter((g) => g.rating === 'up')) {
        for (const rejected of group.filter((g) => g.rating === 'down')) {
          if (chosen.text === rejected.text) continue; // a pair of identical answers teaches nothing
          const prompt = promptFor(chosen);
          yield format === 'trl'
            ? { prompt, chosen: [assistant(chosen.text)], rejected: [assistant(rejected.text)] }
            : { input: { messages: prompt }, preferred_output: [assistant(chosen.text)], non_preferred_output: [assistant(rejected.text)] };
        }
      }
    }
  }
}

export async function rlhfExportPosition(knex: Knex): Promise<string> {
  return readCheckpoint(knex, 'rlhf');
}

const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
