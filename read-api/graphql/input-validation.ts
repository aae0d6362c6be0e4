import {
  defaultFieldResolver, isInputObjectType, isListType, isNonNullType, isScalarType,
  type GraphQLField, type GraphQLInputType, type GraphQLSchema,
} from 'graphql';
import { Id, textProblem } from '../../schemas/common.ts';
import { apiError } from '../errors.ts';

// Every argument of every root field (query, mutation, subscription) is checked here, after
// graphql-js has coerced it to its declared type and before any resolver runs: strings must be
// text PostgreSQL can store (no NUL, no unpaired surrogate), and `ID` values must be ids in the
// documented format (schemas/common.ts `Id`), so a malformed id never reaches SQL or a stream name.
// A failure is BAD_USER_INPUT with extensions.field naming the argument path ("filter.userId"); inside
// an argument named `input` the path starts below it ("params.stop.1"), as the command errors name fields.
// Nested fields take no arguments in this schema; the walk is type-directed, so it is as deep as the
// input types (a few levels), whatever the client sent.

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

export type InputProblem = { field: string; message: string };

const ID_HINT = 'is not a valid id (1 to 128 letters, digits, _ . : -)';

export function inputProblem(type: GraphQLInputType, value: unknown, path: string): InputProblem | null {
  if (value === null || value === undefined) return null;
  if (isNonNullType(type)) return inputProblem(type.ofType, value, path);
  if (isListType(type)) {
    if (!Array.isArray(value)) return inputProblem(type.ofType, value, path);
    for (let i = 0; i < value.length; i++) {
      const problem = inputProblem(type.ofType, value[i], join(path, String(i)));
      if (problem) return problem;
    }
    return null;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return null;
    for (const field of Object.values(type.getFields())) {
      const problem = inputProblem(field.type, (value as Record<string, unknown>)[field.name], join(path, field.name));
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value !== 'string') return null;
  const text = textProblem(value);
  if (text) return { field: path, message: `${path} ${text}` };
  if (isScalarType(type) && type.name === 'ID' && !Id.safeParse(value).success) return { field: path, message: `${path} ${ID_HINT}` };
  return null;
}

export function argumentsProblem(field: Pick<GraphQLField<unknown, unknown>, 'args'>, args: Record<string, unknown>): InputProblem | null {
  for (const arg of field.args) {
    const problem = inputProblem(arg.type, args[arg.name], arg.name === 'input' ? '' : arg.name);
    if (problem) return problem;
  }
  return null;
}

function check(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>) {
  const problem = argumentsProblem(field, args ?? {});
  if (problem) throw apiError('BAD_USER_INPUT', problem.message, { field: problem.field });
}

// Wraps the root fields' resolvers (and subscriptions' subscribe) of a built schema in place.
export function validateRootArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, ctx, info) => {
        check(field, args);
        return resolve(source, args, ctx, info);
      };
    }
  }
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    if (field.args.length === 0 || !field.subscribe) continue;
    const subscribe = field.subscribe;
    field.subscribe = (source, args, ctx, info) => {
      check(field, args);
      return subscribe(source, args, ctx, info);
    };
  }
  return schema;
}
