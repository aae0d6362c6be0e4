import type { Knex } from 'knex';
import type { Consumer } from '../eventstore/postgres/checkpointed-consumer.ts';
import { ERASED } from '../eventstore/crypto/field-codec.ts';
import type { RecordedEvent } from '../eventstore/port.ts';
import type { Embedder } from '../inference/embeddings/index.ts';
import type { EventOf } from '../schemas/events.ts';
import type { Chunker } from './chunker.ts';
import { CHUNKS, DOCUMENTS, INDEXER_NAME, packVector } from './tables.ts';
import { VECTOR_COLUMN, vectorLiteral } from './vector-index.ts';

// The documents projection: a checkpointed consumer (one transaction per batch with its
// checkpoint, like every projection) that chunks and embeds each added document. The slow part —
// embedding, in the embedder's worker thread — runs in prepare(), before the transaction; a crash
// repeats it (it only computes). Removal and erasure delete rows.

type Added = EventOf<'DocumentAdded'> & RecordedEvent;
type Prepared = { chunks: { ord: number; text: string; vector: Float32Array }[] };

// The embedder and chunker are started on the first document (a process that never sees one
// never starts the embedding worker).
// `vectorColumn`: true when pgvector is on (vector-index.ts): each passage's vector is also written
// to the HNSW-indexed column.
export function documentIndexer(deps: { embedder: () => Promise<Embedder>; chunker: () => Chunker; vectorColumn?: () => boolean }): Consumer {
  const prepared = new Map<string, Prepared>();
  return {
    name: INDEXER_NAME,
    types: ['DocumentAdded', 'DocumentRemoved', 'UserDataErased'],
    async prepare(events) {
      prepared.clear();
      for (const e of events) {
        if (e.type !== 'DocumentAdded' || e.data.text === ERASED) continue;
        const chunks = deps.chunker()(`${e.data.title}\n\n${e.data.text}`);
        const { vectors } = await (await deps.embedder()).embed(chunks.map((c) => c.text));
        prepared.set(e.metadata.eventId, { chunks: chunks.map((c, i) => ({ ord: c.ord, text: c.text, vector: vectors[i]! })) });
      }
    },
    async handle(trx: Knex.Transaction, events) {
      for (const e of events) {
        if (e.type === 'DocumentAdded') await add(trx, e as Added, prepared.get(e.metadata.eventId), deps.vectorColumn?.() ?? false);
        else if (e.type === 'DocumentRemoved') await removeDocuments(trx, (q) => q.where({ id: e.data.documentId }), (q) => q.where({ document_id: e.data.documentId }));
        else if (e.type === 'UserDataErased') {
          const who = { tenant_id: e.data.tenantId, owner_id: e.data.userId };
          await removeDocuments(trx, (q) => q.where(who), (q) => q.where(who));
        }
      }
    },
  };
}

async function add(trx: Knex.Transaction, e: Added, p: Prepared | undefined, vectorColumn: boolean): Promise<void> {
  // An erased document (its key destroyed before this replay) is not indexed.
  if (!p) return;
  const d = e.data;
  await trx(DOCUMENTS).insert({
    id: d.documentId, tenant_id: d.tenantId, owner_id: d.ownerId, collection: d.collection, visibility: d.visibility,
    title: d.title, chunks: p.chunks.length, chars: d.text.length, added_at: e.metadata.occurredAt,
  }).onConflict('id').ignore();
  const rows = p.chunks.map((c) => ({
    id: `${d.documentId}:${c.ord}`, document_id: d.documentId, tenant_id: d.tenantId, owner_id: d.ownerId, collection: d.collection,
    visibility: d.visibility, ord: c.ord, text: c.text, tsv: trx.raw(`to_tsvector('english', ?)`, [c.text]), embedding: packVector(c.vector),
    ...(vectorColumn ? { [VECTOR_COLUMN]: trx.raw('?::vector', [vectorLiteral(c.vector)]) } : {}),
  }));
  for (let i = 0; i < rows.length; i += 500) await trx(CHUNKS).insert(rows.slice(i, i + 500)).onConflict('id').ignore();
}

async function removeDocuments(
  trx: Knex.Transaction, docs: (q: Knex.QueryBuilder) => Knex.QueryBuilder, chunks: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
): Promise<void> {
  await chunks(trx(CHUNKS)).delete();
  await docs(trx(DOCUMENTS)).delete();
}
