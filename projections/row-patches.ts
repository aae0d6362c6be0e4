import type { Knex } from 'knex';
import type { RecordedEvent } from '../eventstore/port.ts';

// Erasures cut a batch: the events before one are written as a segment, then the erasure deletes
// rows, as applying the events one by one would.
export async function applyCutAtErasures(
  events: readonly RecordedEvent[], applySegment: (segment: RecordedEvent[]) => Promise<void>, erase: (e: RecordedEvent) => Promise<void>,
): Promise<void> {
  let segment: RecordedEvent[] = [];
  for (const e of events) {
    if (e.type === 'UserDataErased' || e.type === 'ConversationErased') {
      await applySegment(segment);
      segment = [];
      await erase(e);
    } else {
      segment.push(e);
    }
  }
  await applySegment(segment);
}

// The updates a batch of events makes to rows of one table, folded per row so the whole batch is
// written with ONE statement (update … from jsonb_array_elements), giving the same row as applying
// the events one by one:
// - set(): plain columns, the last event that sets a column wins (null included);
// - add(): counters, deltas summed;
// - chunk(): the text assembled from TokensGenerated chunks, where a chunk of a newer attempt
//   restarts the text. Applied one by one, each chunk does `text = case when attempt < a then chunk
//   else text || sep || chunk end; attempt = greatest(attempt, a)`. Folded over a batch whose
//   highest attempt is A, first reached at chunk k, that is: if the row's attempt < A, the text is
//   chunks k..n joined; otherwise the row's text followed by all chunks 1..n (and counts alike).
// Rows that do not exist are left alone, as the per-event updates would.

export type ChunkColumns = { text: string; count?: string; attempt: string };
// Texts kept as built: `restart` is chunk k then each later one with its separator; `append` is every
// chunk with its separator (what one-by-one appends would add to the row's text).
type Chunks = { attempt: number; restart: string; restartCount: number; append: string; appendCount: number };
type Patch = { set: Record<string, unknown>; add: Record<string, number>; chunks?: Chunks };

export class RowPatches {
  private readonly rows = new Map<string, Patch>();

  constructor(private readonly types: Record<string, string>, private readonly chunkColumns?: ChunkColumns) {}

  private patch(id: string): Patch {
    let p = this.rows.get(id);
    if (!p) this.rows.set(id, (p = { set: {}, add: {} }));
    return p;
  }

  set(id: string, values: Record<string, unknown>): void {
    for (const [column, value] of Object.entries(values)) {
      if (!(column in this.types)) throw new Error(`RowPatches: no type for column ${column}`);
      this.patch(id).set[column] = value;
    }
  }

  add(id: string, column: string, delta: number): void {
    const p = this.patch(id);
    p.add[column] = (p.add[column] ?? 0) + delta;
  }

  // `separator` joins this chunk to the text before it ('' in clear; sealed chunks are kept apart).
  chunk(id: string, attempt: number, text: string, count: number, separator: string): void {
    const p = this.patch(id);
    const c = p.chunks;
    if (!c) {
      p.chunks = { attempt, restart: text, restartCount: count, append: separator + text, appendCount: count };
      return;
    }
    if (attempt > c.attempt) {
      c.attempt = attempt;
      c.restart = text;
      c.restartCount = count;
    } else {
      c.restart += separator + text;
      c.restartCount += count;
    }
    c.append += separator + text;
    c.appendCount += count;
  }

  get size(): number {
    return this.rows.size;
  }

  async write(trx: Knex.Transaction, table: string, idColumn = 'id'): Promise<void> {
    if (this.rows.size === 0) return;
    const setColumns = new Set<string>();
    const addColumns = new Set<string>();
    let chunked = false;
    const payload = [...this.rows].map(([id, p]) => {
      Object.keys(p.set).forEach((c) => setColumns.add(c));
      Object.keys(p.add).forEach((c) => addColumns.add(c));
      const row: Record<string, unknown> = { id, set: p.set, add: p.add };
      if (p.chunks) {
        chunked = true;
        Object.assign(row, {
          a: p.chunks.attempt, restart: p.chunks.restart, restartCount: p.chunks.restartCount, append: p.chunks.append, appendCount: p.chunks.appendCount,
        });
      }
      return row;
    });
    const assignments: string[] = [];
    for (const c of setColumns) {
      const type = this.types[c]!;
      const value = type === 'jsonb' ? `nullif(x.d->'set'->'${c}', 'null'::jsonb)` : `(x.d->'set'->>'${c}')::${type}`;
      assignments.push(`${c} = case when jsonb_exists(x.d->'set', '${c}') then ${value} else t.${c} end`);
    }
    for (const c of addColumns) assignments.push(`${c} = t.${c} + coalesce((x.d->'add'->>'${c}')::bigint, 0)`);
    if (chunked) {
      const { text, count, attempt } = this.chunkColumns!;
      const newer = `t.${attempt} < (x.d->>'a')::int`;
      const has = `jsonb_exists(x.d, 'a')`;
      assignments.push(`${text} = case when ${has} then (case when ${newer} then x.d->>'restart' else t.${text} || (x.d->>'append') end) else t.${text} end`);
      if (count) assignments.push(`${count} = case when ${has} then (case when ${newer} then (x.d->>'restartCount')::int else t.${count} + (x.d->>'appendCount')::int end) else t.${count} end`);
      assignments.push(`${attempt} = case when ${has} then greatest(t.${attempt}, (x.d->>'a')::int) else t.${attempt} end`);
    }
    // (jsonb_exists is the `?` operator, which knex would take for a placeholder.)
    const sql = `update ${table} as t set ${assignments.join(', ')}
      from jsonb_array_elements(?::jsonb) as x(d) where t.${idColumn} = x.d->>'id'`;
    await trx.raw(sql, [JSON.stringify(payload)]);
  }
}
