import { Kind, type ValueNode } from 'graphql';
import { ReplayInputError, parseAfter, parseLimit, parseTypes } from '../../streams/query.ts';
import type { EventStreams } from '../../streams/replay.ts';
import { canSeeContent, LOG_ROLES, type WireEvent } from '../../streams/privacy.ts';
import { isPlatformOperator } from '../../domain/access.ts';
import { requireRole, type GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';

const MAX_PAGE = 1000;

type EventsArgs = { after?: string | null; types?: string[] | null; first?: number | null };

// `events` connection and `eventAppended` subscription (read-api/graphql/events.graphql).
export function createEventsResolvers(streams: EventStreams) {
  const access = (ctx: GraphQLContext) => {
    const actor = requireRole(ctx, ...LOG_ROLES);
    // The data_scientist role reads its own tenant's log (every tenant's as a platform operator).
    return { includeContent: canSeeContent(actor.roles), tenantId: isPlatformOperator(actor) ? null : actor.tenantId };
  };

  return {
    EventJSON,
    Query: {
      events: async (_: unknown, args: EventsArgs, ctx: GraphQLContext) => {
        const scope = access(ctx);
        const { after, types } = parseArgs(args);
        const first = input(() => parseLimit(args.first ?? 100, MAX_PAGE, 'first'))!;
        const { events, hasNextPage, endCursor } = await streams.page({ after, types, first, ...scope });
        return {
          edges: events.map((node) => ({ cursor: node.position, node })),
          pageInfo: { hasNextPage, endCursor },
        };
      },
    },
    Subscription: {
      eventAppended: {
        subscribe: (_: unknown, args: EventsArgs, ctx: GraphQLContext) => {
          const scope = access(ctx);
          const { after, types } = parseArgs(args);
          return streams.follow({ after, types, ...scope });
        },
        resolve: (event: WireEvent) => event,
      },
    },
  };
}

function parseArgs(args: EventsArgs) {
  return input(() => ({ after: parseAfter(args.after), types: parseTypes(args.types) }));
}

function input<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ReplayInputError) throw apiError('BAD_USER_INPUT', error.message, { field: error.field });
    throw error;
  }
}

// The EventJSON scalar's behaviour (merged onto the SDL's scalar): values pass through as they are.
const EventJSON = {
  serialize: (value: unknown) => value,
  parseValue: (value: unknown) => value,
  parseLiteral: function literal(node: ValueNode): unknown {
    switch (node.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return node.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(node.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return node.values.map(literal);
      case Kind.OBJECT:
        return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value)]));
      default:
        return undefined;
    }
  },
};
