import { moderate } from '../../safety/index.ts';
import { requireActor, type GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import { MAX_INPUT_CHARS, MAX_INPUTS } from '../openai/moderations.ts';

// Query.moderate: the GraphQL face of POST /v1/moderations (same cascade, same limits).
export const moderationResolvers = {
  Query: {
    moderate: async (_: unknown, args: { texts: string[] }, ctx: GraphQLContext) => {
      requireActor(ctx);
      if (args.texts.length === 0) throw apiError('BAD_USER_INPUT', 'texts must not be empty', { field: 'texts' });
      if (args.texts.length > MAX_INPUTS) throw apiError('BAD_USER_INPUT', `texts may hold at most ${MAX_INPUTS} strings`, { field: 'texts' });
      const long = args.texts.findIndex((t) => t.length > MAX_INPUT_CHARS);
      if (long >= 0) throw apiError('BAD_USER_INPUT', `texts.${long} must be at most ${MAX_INPUT_CHARS} characters`, { field: `texts.${long}` });
      return (await moderate(args.texts)).map((r) => ({
        flagged: r.flagged,
        categories: Object.keys(r.categories).map((name) => ({ name, flagged: r.categories[name], score: r.category_scores[name] })),
      }));
    },
  },
};
