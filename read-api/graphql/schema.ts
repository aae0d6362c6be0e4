import { readdirSync, readFileSync } from 'node:fs';
import { createSchema } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { toMessage, type MessageRow } from '../read-models.ts';
import { validateRootArguments } from './input-validation.ts';
import { complianceResolvers } from './compliance.ts';
import { messageSafetyResolvers } from './message-safety.ts';
import { moderationResolvers } from './moderation.ts';
import { mutationResolvers } from './mutations.ts';
import { queryResolvers } from './queries.ts';
import { knowledgeResolvers } from '../knowledge/resolvers.ts';
import { citationResolvers } from '../knowledge/citations.ts';
import { toolCallResolvers } from './tool-calls.ts';

// read-api/schema.graphql plus any `read-api/graphql/*.graphql` extension (extend type Query …).
const extensionsDir = new URL('./', import.meta.url);
export const typeDefs = [
  readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'),
  ...readdirSync(extensionsDir).filter((f) => f.endsWith('.graphql')).sort().map((f) => readFileSync(new URL(f, extensionsDir), 'utf8')),
];

type Resolvers = Record<string, object>;

// Each feature module contributes resolvers; they are merged per type.
export function buildSchema(extra: Resolvers[] = []) {
  const base: Resolvers = {
    Query: queryResolvers,
    Mutation: mutationResolvers,
    Conversation: {
      messages: async (c: { id: string }, _: unknown, ctx: GraphQLContext) =>
        ((await ctx.loaders.messages.load(c.id)) as MessageRow[]).map(toMessage),
    },
  };
  const resolvers: Resolvers = {};
  for (const r of [base, messageSafetyResolvers, complianceResolvers, moderationResolvers, knowledgeResolvers, citationResolvers, toolCallResolvers, ...extra]) {
    for (const [type, fields] of Object.entries(r)) {
      // Scalars (class instances) are taken as they are; field maps are merged.
      resolvers[type] = Object.getPrototypeOf(fields) === Object.prototype ? { ...resolvers[type], ...fields } : fields;
    }
  }
  // Arguments are checked (text, id format) before any root resolver sees them.
  return validateRootArguments(createSchema<GraphQLContext>({ typeDefs, resolvers: resolvers as never }));
}
