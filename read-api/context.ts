import DataLoader from 'dataloader';
import type { Knex } from 'knex';
import type { CommandHandler } from '../commands/command-handler.ts';
import type { EventStore } from '../eventstore/port.ts';
import type { TokenBus } from '../inference/worker/token-bus.ts';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import type { AcceptedTurns } from './accepted-turns.ts';
import type { Knowledge } from '../knowledge/index.ts';
import type { Actor, Role } from '../schemas/common.ts';
import type { TenantPolicies } from '../schemas/safety.ts';
import { apiError } from './errors.ts';
import type { ModelRegistry } from '../inference/models/index.ts';
import { messagesByConversation, type MessageRow } from './read-models.ts';

export type Services = {
  knex: Knex;
  store: EventStore;
  commands: CommandHandler;
  jwtSecret: string;
  defaultModel: string;
  // PARLEY_MODELS: the served models, who may use which, the (promoted) default; absent: defaultModel only.
  models?: ModelRegistry;
  newId: () => string;
  // Live token fan-out; absent in processes that do not stream.
  bus?: TokenBus;
  // Data keys (crypto-shredding); absent when the store does not encrypt.
  keys?: KeyStore | null;
  // Turns this process accepted a moment ago: their answers' subscriptions skip the log (accepted-turns.ts).
  accepted?: AcceptedTurns;
  // PARLEY_TENANT_POLICY: a request's safety settings are checked against its tenant's floors.
  tenantPolicies?: TenantPolicies;
  // Documents search and embeddings (knowledge/); absent: searchDocuments answers UNAVAILABLE.
  knowledge?: Knowledge;
};

export type GraphQLContext = {
  services: Services;
  actor: Actor | null;
  authError: string | null;
  loaders: { messages: DataLoader<string, MessageRow[]> };
  // Set by the HTTP layer when the request carries one (x-correlation-id); else one per mutation.
  correlationId?: string;
};

export function createLoaders(knex: Knex, keys?: KeyStore | null): GraphQLContext['loaders'] {
  // One query for the messages of every conversation in a page, not one per conversation.
  return { messages: new DataLoader((ids: readonly string[]) => messagesByConversation(knex, ids, keys)) };
}

export function requireActor(ctx: GraphQLContext): Actor {
  if (ctx.actor) return ctx.actor;
  throw apiError('UNAUTHENTICATED', ctx.authError ?? 'sign in: send Authorization: Bearer <token>');
}

export function requireRole(ctx: GraphQLContext, ...roles: Role[]): Actor {
  const actor = requireActor(ctx);
  if (!roles.some((r) => actor.roles.includes(r))) throw apiError('FORBIDDEN', `needs one of the roles: ${roles.join(', ')}`);
  return actor;
}
