import type { Knex } from 'knex';
import type { ReadModelCipher } from '../eventstore/crypto/read-model-cipher.ts';
import { openRows } from '../projections/sealed-text.ts';
import type { Actor } from '../schemas/common.ts';

// Search over a caller's own conversations. Titles and message text are sealed at rest
// (projections/sealed-text.ts), so no index or ILIKE can see them: the caller's conversations are
// scanned newest first, a page at a time, opened here, and PostgreSQL matches the opened text sent
// as query parameters (never stored) with the same rules as before, so results are unchanged:
// the title contains the words (ILIKE), or a message matches them as English full text
// (to_tsvector @@ websearch_to_tsquery). The cost grows with the caller's history, not with the
// table: a search that matches rarely reads all of the caller's conversations
// (bench/results/readmodel.md measures it).

const SCAN_PAGE = 100;

type Row = Record<string, any> & { id: string; updated_at: Date };

export async function searchConversations<R extends Row>(
  knex: Knex,
  // The caller's conversations (every ownership filter applied), not yet ordered or limited.
  owned: Knex.QueryBuilder,
  actor: Actor,
  opts: { first: number; after: { updatedAt: string; id: string } | null; search: string },
  cipher: ReadModelCipher | null,
): Promise<R[]> {
  const found: R[] = [];
  // The scan's own cursor keeps PostgreSQL's microseconds (a Date would round them away).
  let after: { at: string; id: string } | null = opts.after ? { at: opts.after.updatedAt, id: opts.after.id } : null;
  const pattern = `%${opts.search.replace(/[%_\\]/g, '\\$&')}%`;
  while (found.length < opts.first + 1) {
    const q = owned.clone().select(knex.raw('c.updated_at::text as scan_at'));
    if (after) q.whereRaw('(c.updated_at, c.id) < (?::timestamptz, ?)', [after.at, after.id]);
    const page: (R & { scan_at?: string })[] = await q.orderBy([{ column: 'c.updated_at', order: 'desc' }, { column: 'c.id', order: 'desc' }]).limit(SCAN_PAGE);
    if (page.length === 0) break;
    await openRows(cipher, 'history_conversations', page, ['title', 'system_prompt']);
    const ids = page.map((r) => r.id);
    const messages = await openRows(cipher, 'history_messages',
      await knex('history_messages as m').whereIn('m.conversation_id', ids).where('m.owner_id', actor.userId).select('m.id', 'm.conversation_id', 'm.content', 'm.kid'),
      ['content']);
    const { rows } = await knex.raw(
      `select distinct t.cid from unnest(?::text[], ?::text[], ?::boolean[]) as t(cid, body, is_title)
        where case when t.is_title then t.body ilike ? else to_tsvector('english', t.body) @@ websearch_to_tsquery('english', ?) end`,
      [
        [...ids, ...messages.map((m) => m.conversation_id)],
        [...page.map((r) => r.title), ...messages.map((m) => m.content)],
        [...page.map(() => true), ...messages.map(() => false)],
        pattern, opts.search,
      ],
    );
    const hits = new Set((rows as { cid: string }[]).map((r) => r.cid));
    for (const r of page) if (hits.has(r.id) && found.length < opts.first + 1) found.push(r);
    const last = page[page.length - 1]!;
    after = { at: last.scan_at!, id: last.id };
    for (const r of page) delete r.scan_at;
    if (page.length < SCAN_PAGE) break;
  }
  return found;
}
