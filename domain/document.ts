import type { Actor } from '../schemas/common.ts';
import type { CommandOf } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import type { Visibility } from '../schemas/knowledge.ts';
import { canActOn } from './access.ts';
import { accept, reject, type Decision } from './decision.ts';

// A document in a tenant's collection: one stream per document (document-<id>). A private document
// is the owner's alone; a shared one is readable by everyone in the tenant. The owner or a tenant
// admin removes it. Another tenant never learns that it exists (NOT_FOUND, never FORBIDDEN).

export type DocumentState =
  | { status: 'none' }
  | { status: 'added' | 'removed'; tenantId: string; ownerId: string; collection: string; visibility: Visibility };

export const initialDocumentState = (): DocumentState => ({ status: 'none' });

export function evolveDocument(state: DocumentState, event: ParleyEvent): DocumentState {
  if (event.type === 'DocumentAdded') {
    const d = event.data;
    return { status: 'added', tenantId: d.tenantId, ownerId: d.ownerId, collection: d.collection, visibility: d.visibility };
  }
  if (event.type === 'DocumentRemoved' && state.status !== 'none') return { ...state, status: 'removed' };
  return state;
}

export type DocumentCommand = CommandOf<'AddDocument'> | CommandOf<'RemoveDocument'>;

/** May this actor read the document? The rule retrieval and every document query apply. */
export function canReadDocument(actor: Actor, doc: { tenantId: string; ownerId: string; visibility: Visibility }): boolean {
  // Shared means shared with the tenant's members; from another tenant only an admin who is a
  // platform operator reaches it ([platform_operator] alone is nobody there).
  if (actor.tenantId !== doc.tenantId) return canActOn(actor, doc);
  return doc.visibility === 'shared' || canActOn(actor, doc);
}

export function decideDocument(command: DocumentCommand, state: DocumentState): Decision {
  const actor = command.metadata.actor;
  if (command.type === 'AddDocument') {
    if (state.status !== 'none') return reject('ALREADY_EXISTS', 'a document with this id exists', 'documentId');
    const d = command.data;
    return accept({
      type: 'DocumentAdded', version: 1,
      data: { documentId: d.documentId, tenantId: actor.tenantId, ownerId: actor.userId, collection: d.collection, visibility: d.visibility, title: d.title, text: d.text },
    });
  }
  if (state.status !== 'added' || !canReadDocument(actor, state)) return reject('NOT_FOUND', 'no such document', 'id');
  if (!canActOn(actor, state)) return reject('FORBIDDEN', 'only the owner or an admin of the tenant may remove this document', 'id');
  return accept({ type: 'DocumentRemoved', version: 1, data: { documentId: command.data.documentId, tenantId: state.tenantId, ownerId: state.ownerId, collection: state.collection } });
}
