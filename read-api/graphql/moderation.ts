import { moderate } from '../../safety/index.ts';
import { requireActor, type GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import { MAX_INPUT_CHARS, MAX_INPUTS } from '../openai/moderations.ts';
import { admitRequest } from '../rate-limit/graphql.ts';

// Query.moderate: the GraphQL face of POST /v1/moderations (same cascade, same limits, and admitted
// like it: rpm and tpm of the caller's tier, shedding under load; input is validated first, free).
export const moderationResolvers = {
  Query: {
    moderate: async (_: unknown, args: { texts: string[] }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      if (args.texts.length === 0) throw apiError('BAD_USER_INPUT', 'texts must not be empty', { field: 'texts' });
      if (args.texts.length > MAX_INPUTS) throw apiError('BAD_USER_INPUT', `texts may hold at most ${MAX_INPUTS} strings`, { field: 'texts' });
      const long = args.texts.findIndex((t) => t.length > MAX_INPUT_CHARS);
      if (long >= 0) throw apiError('BAD_USER_INPUT', `texts.${long} must be at most ${MAX_INPUT_CHARS} characters`, { field: `texts.${long}` });
      const gate = await admitRequest(ctx, actor, args.texts.join('\n'));
      let results: Awaited<ReturnType<typeof moderate>>;
      try {
        results = await moderate(args.texts);
      } catch (error) {
        await gate.settle(false);
        throw error;
      }
      await gate.settle(true);
      return results.map((r) => ({
        flagged: r.flagged,
        categories: Object.keys(r.categories).map((name) => ({ name, flagged: r.categories[name], score: r.category_scores[name] })),
      }));
    },
  },
};
