import { isPlatformOperator } from '../../domain/access.ts';
import type { GraphQLContext } from '../context.ts';
import { requireActor, requireRole } from '../context.ts';
import { apiError } from '../errors.ts';
import { experimentReport } from '../experiments/report.ts';
import { modelsFor } from '../models.ts';
import { tierOfGraphQL } from '../rate-limit/admission.ts';

// Query.experimentReport and Query.models (experiments.graphql).
export const experimentResolvers = {
  Query: {
    experimentReport: async (_: unknown, { name }: { name: string }, ctx: GraphQLContext) => {
      // platform_operator only widens a role (domain/access.ts): alone it is not enough.
      const actor = requireRole(ctx, 'admin', 'data_scientist');
      const experiment = ctx.services.models?.experiment(name);
      if (!experiment) throw apiError('NOT_FOUND', `no experiment named "${name.slice(0, 64)}" is configured (PARLEY_EXPERIMENTS)`, { field: 'name' });
      // A tenant's admin or analyst sees their tenant's traffic; with platform_operator, the whole experiment.
      return experimentReport(ctx.services.knex, experiment, isPlatformOperator(actor) ? null : actor.tenantId);
    },
    models: (_: unknown, __: unknown, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      const def = ctx.services.models?.defaultFor(actor.tenantId) ?? ctx.services.defaultModel;
      return modelsFor(ctx.services, actor, tierOfGraphQL(ctx)).map((name) => ({ name, default: name === def }));
    },
  },
};
