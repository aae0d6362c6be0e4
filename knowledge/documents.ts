import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { CommandHandler } from '../commands/command-handler.ts';
import type { CommandResult } from '../commands/command-result.ts';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { subjectOf, type Actor } from '../schemas/common.ts';
import type { Visibility } from '../schemas/knowledge.ts';
import { DOCUMENTS } from './tables.ts';

// Documents through commands (AddDocument / RemoveDocument, domain/document.ts decides), and the
// caller's view of a collection from the read model.

export type DocumentInput = { collection: string; title: string; text: string; visibility?: Visibility };
export type DocumentRow = { id: string; tenant_id: string; owner_id: string; collection: string; visibility: Visibility; title: string; chunks: number; chars: number; added_at: Date };

export async function addDocument(commands: CommandHandler, actor: Actor, input: DocumentInput, opts: { documentId?: string; commandId?: string } = {}): Promise<CommandResult> {
  return commands.execute({
    type: 'AddDocument',
    data: { documentId: opts.documentId ?? randomUUID(), ...input },
    metadata: { commandId: opts.commandId ?? randomUUID(), actor },
  });
}

// The document's own key (scope document-<id>) is destroyed after the removal is recorded: the
// log's copy of its text becomes unreadable, as an erasure would make it.
export async function removeDocument(commands: CommandHandler, keys: KeyStore | null | undefined, actor: Actor, documentId: string, commandId: string = randomUUID()): Promise<CommandResult> {
  const result = await commands.execute({ type: 'RemoveDocument', data: { documentId }, metadata: { commandId, actor } });
  if (result.ok) {
    const removed = result.events.find((e) => e.type === 'DocumentRemoved');
    if (removed?.type === 'DocumentRemoved') await keys?.destroy(subjectOf(removed.data.tenantId, removed.data.ownerId), `document-${documentId}`);
  }
  return result;
}

/** The documents of a collection the caller may read (their tenant's shared ones and their own). */
export async function listDocuments(knex: Knex, actor: Actor, collection: string): Promise<DocumentRow[]> {
  return knex(DOCUMENTS)
    .where({ tenant_id: actor.tenantId, collection })
    .andWhere((q) => {
      q.where('visibility', 'shared').orWhere('owner_id', actor.userId);
      if (actor.roles.includes('admin')) q.orWhereRaw('true');
    })
    .orderBy([{ column: 'added_at', order: 'desc' }, { column: 'id' }])
    .limit(1000);
}
