import type { Knex } from 'knex';

// The documents read model, written by the indexer (indexer.ts) from DocumentAdded/DocumentRemoved:
// one row per live document and one per passage, with its full-text vector (PostgreSQL's English
// configuration) and its embedding (float32, little-endian, in a bytea). Rows of a removed document
// or of an erased owner are deleted. Disposable: dropped and rebuilt from the log (rebuildDocuments).
//
// Passage text is kept readable here (full-text search needs it) — unlike conversation text, which
// read models keep sealed. The log's copy is sealed with the owner's key (a document key per
// document), and every copy here is deleted when the document is removed or its owner erased.

export const DOCUMENTS = 'parley_documents';
export const CHUNKS = 'parley_document_chunks';
export const INDEXER_NAME = 'documents';

export async function createDocumentTables(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists ${DOCUMENTS} (
      id text primary key,
      tenant_id text not null,
      owner_id text not null,
      collection text not null,
      visibility text not null,
      title text not null,
      chunks int not null,
      chars int not null,
      added_at timestamptz not null
    );
    create index if not exists ${DOCUMENTS}_tenant_collection on ${DOCUMENTS} (tenant_id, collection);
    create table if not exists ${CHUNKS} (
      id text primary key,
      seq bigserial,
      document_id text not null,
      tenant_id text not null,
      owner_id text not null,
      collection text not null,
      visibility text not null,
      ord int not null,
      text text not null,
      tsv tsvector not null,
      embedding bytea not null
    );
    create index if not exists ${CHUNKS}_scope on ${CHUNKS} (tenant_id, collection);
    create index if not exists ${CHUNKS}_document on ${CHUNKS} (document_id);
    create index if not exists ${CHUNKS}_tsv on ${CHUNKS} using gin (tsv);
  `);
}

export async function dropDocumentTables(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists ${CHUNKS}; drop table if exists ${DOCUMENTS};`);
}

export const packVector = (v: Float32Array): Buffer => {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
};

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// One bulk copy on little-endian hosts (every one Parley runs on); element by element otherwise.
export const unpackVector = (b: Buffer): Float32Array => {
  if (LITTLE_ENDIAN) return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const v = new Float32Array(b.length / 4);
  for (let i = 0; i < v.length; i++) v[i] = b.readFloatLE(i * 4);
  return v;
};
