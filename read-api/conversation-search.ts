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

// The first scan reads as many conversations as the page needs (a common word fills it at once);
// each further scan reads twice as many, up to this.
const MAX_SCAN = 200;

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
  let scan = opts.first + 1;
  while (found.length < opts.first + 1) {
    const q = owned.clone().select(knex.raw('c.updated_at::text as scan_at'));
    if (after) q.whereRaw('(c.updated_at, c.id) < (?::timestamptz, ?)', [after.at, after.id]);
    const page: (R & { scan_at?: string })[] = await q.orderBy([{ column: 'c.updated_at', order: 'desc' }, { column: 'c.id', order: 'desc' }]).limit(scan);
    if (page.length === 0) break;
    await openRows(cipher, 'history_conversations', page, ['title', 'system_prompt']);
    const ids = page.map((r) => r.id);
    const messages = await openRows(cipher, 'history_messages',
      await knex('history_messages as m').whereIn('m.conversation_id', ids).where('m.owner_id', actor.userId).select('m.id', 'm.conversation_id', 'm.content', 'm.kid'),
      ['content']);
    // A matching title spares its messages; the first matching message spares the rest (exists).
    const { rows } = await knex.raw(
      `select c.cid from unnest(?::text[], ?::text[]) as c(cid, title)
        where c.title ilike ?
           or exists (select 1 from unnest(?::text[], ?::text[]) as m(cid, body)
                       where m.cid = c.cid and to_tsvector('english', m.body) @@ websearch_to_tsquery('english', ?))`,
      [ids, page.map((r) => r.title), pattern, messages.map((m) => m.conversation_id), messages.map((m) => m.content), opts.search],
    );
    const hits = new Set((rows as { cid: string }[]).map((r) => r.cid));
    for (const r of page) if (hits.has(r.id) && found.length < opts.first + 1) found.push(r);
    const last = page[page.length - 1]!;
    after = { at: last.scan_at!, id: last.id };
    for (const r of page) delete r.scan_at;
    if (page.length < scan) break;
    scan = Math.min(scan * 2, MAX_SCAN);
  }
  return found;
}
