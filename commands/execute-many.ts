import type { Decision } from '../domain/decision.ts';
import { ErasedSubjectError } from '../eventstore/crypto/key-store.ts';
import { ConcurrencyError, InvalidEventError, type EventStore, type RecordedEvent, type StreamAppend } from '../eventstore/port.ts';
import { ParleyCommand } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { validationError, type CommandError, type CommandResult } from './command-result.ts';
import { deterministicEventId } from './event-ids.ts';
import type { StreamCache } from './stream-cache.ts';

export type Route = { streamId: string; decide: (history: ParleyEvent[]) => Decision };

export type ExecuteManyDeps = {
  store: EventStore;
  streams: StreamCache;
  route: (command: ParleyCommand) => Route;
  now: () => Date;
  maxRetries: number;
  // Runs the deciding and appending while this process's other commands on these streams wait
  // (the command handler's per-stream lanes), so they do not race each other for revisions.
  inLanes?: <T>(streamIds: readonly string[], work: () => Promise<T>) => Promise<T>;
};

export type ExecuteManyOptions = {
  // Events that are not decided by a command but must land in the same atomic append (for example
  // a process manager's own records); their streams must differ from the commands' streams, and
  // their expected revisions are the caller's: a conflict on one of them is thrown, not retried.
  also?: readonly StreamAppend[];
  // The caller's copy of some streams' histories (complete, from revision 0; [] for a stream it
  // knows is new), used instead of reading them on the first try: a process manager that folds
  // the streams it writes decides without a read. A stale copy costs a conflict, then a read.
  known?: ReadonlyMap<string, readonly RecordedEvent[]>;
};

// The events a command's decision yields, with the metadata executeAll gives them: ids derived from
// the command id, so a command replayed through either path finds its own events already stored.
export function stampEvents(command: ParleyCommand, streamId: string, events: readonly object[], occurredAt: string): ParleyEvent[] {
  return events.map((e, j) => ({
    ...e,
    metadata: {
      eventId: deterministicEventId(command.metadata.commandId, streamId, j),
      correlationId: command.metadata.correlationId ?? command.metadata.commandId,
      causationId: command.metadata.causationId ?? null,
      commandId: command.metadata.commandId,
      actor: command.metadata.actor,
      occurredAt,
    },
  })) as ParleyEvent[];
}

type Group = { index: number; commands: ParleyCommand[]; routes: Route[]; streamId: string };
type Planned = { group: Group; events: ParleyEvent[]; end: number };
type StreamPlan = { history: RecordedEvent[]; events: ParleyEvent[]; groups: Planned[] };

// Many groups of commands, each group on one stream (as executeAll), decided against their streams
// and appended together with ONE appendMany: one round trip for the whole batch where the store is
// atomic. Groups are independent: a rejected group is not appended, the others are. Groups on the
// same stream are decided in order, each against the events of the ones before it. On a conflict
// the streams are read again (only their new events) and every group is decided again; a stream
// that keeps conflicting gives up after `maxRetries` retries without holding up the others.
// Results are in the order of `groups`.
export async function executeMany(deps: ExecuteManyDeps, groups: readonly unknown[][], options: ExecuteManyOptions = {}): Promise<CommandResult[]> {
  const results: CommandResult[] = new Array(groups.length);
  let pending: Group[] = [];
  for (const [index, inputs] of groups.entries()) {
    const parsed = parseGroup(inputs, deps.route);
    if ('error' in parsed) results[index] = { ok: false, error: parsed.error };
    else pending.push({ index, ...parsed });
  }
  const alsoStreams = new Set(options.also?.map((a) => a.streamId));
  const overlap = pending.find((g) => alsoStreams.has(g.streamId));
  if (overlap) throw new InvalidEventError(`${overlap.streamId} is written both by a command and by \`also\`: make the event a command of its group`);
  // Decided and appended in this process's lanes of the streams written (command-handler.ts).
  const streamIds = [...new Set(pending.map((g) => g.streamId))];
  const decideAndAppend = async (): Promise<CommandResult[]> => {
    const conflicts = new Map<string, number>();
    const stale = new Set<string>(); // streams whose known copy met a conflict: read from now on
    for (;;) {
      const ids = [...new Set(pending.map((g) => g.streamId))];
      const knownCopy = (s: string) => (stale.has(s) ? undefined : (options.known?.get(s) as RecordedEvent[] | undefined));
      const histories = new Map(await Promise.all(ids.map(async (s) => [s, knownCopy(s) ?? await deps.streams.read(s)] as const)));
      const occurredAt = deps.now().toISOString();
      const plans = new Map<string, StreamPlan>();
      for (const group of pending) {
        const history = histories.get(group.streamId)!;
        const last = group.commands[group.commands.length - 1]!;
        const previous = history.filter((e) => e.metadata.commandId === last.metadata.commandId);
        if (previous.length > 0) {
          const lastEvent = previous[previous.length - 1]!;
          results[group.index] = { ok: true, streamId: group.streamId, nextRevision: lastEvent.revision, position: lastEvent.position, events: previous, duplicate: true };
          continue;
        }
        const plan = plans.get(group.streamId) ?? { history, events: [], groups: [] };
        plans.set(group.streamId, plan);
        const events: ParleyEvent[] = [];
        let error: CommandError | null = null;
        for (const [i, command] of group.commands.entries()) {
          const decision = group.routes[i]!.decide([...history, ...plan.events, ...events]);
          if (!decision.ok) { error = decision.error; break; }
          events.push(...stampEvents(command, group.streamId, decision.events, occurredAt));
        }
        if (error) { results[group.index] = { ok: false, error }; continue; }
        plan.events.push(...events);
        plan.groups.push({ group, events, end: plan.events.length });
      }

      const written = [...plans.entries()].filter(([, p]) => p.events.length > 0);
      const appends: StreamAppend[] = [
        ...written.map(([streamId, p]) => ({
          streamId, events: p.events, expectedRevision: p.history.length === 0 ? 'no_stream' as const : p.history[p.history.length - 1]!.revision,
        })),
        ...(options.also ?? []),
      ];
      try {
        const out = appends.length > 0 ? await deps.store.appendMany(appends) : [];
        for (const [k, [streamId, plan]] of written.entries()) {
          const r = out[k]!;
          for (const { group, events, end } of plan.groups) {
            // The stream's result is its last event's; a group earlier in the stream ends before it
            // (its position is that of the whole append, which readers see at once).
            results[group.index] = { ok: true, streamId, nextRevision: r.nextRevision - (plan.events.length - end), position: r.position, events, duplicate: r.duplicate };
          }
        }
        return results;
      } catch (error) {
        if (error instanceof ErasedSubjectError) {
          const streams = new Set(error.streamIds ?? (written.length === 1 && !options.also?.length ? [written[0]![0]] : []));
          const hit = pending.filter((g) => streams.has(g.streamId));
          if (hit.length === 0) throw error;
          for (const g of hit) results[g.index] = { ok: false, error: { code: 'FORBIDDEN', message: error.message } };
          pending = pending.filter((g) => !streams.has(g.streamId));
          continue;
        }
        if (!(error instanceof ConcurrencyError)) throw error;
        const hit = pending.filter((g) => g.streamId === error.streamId);
        if (hit.length === 0) throw error; // one of `also`'s streams
        stale.add(error.streamId);
        const tries = (conflicts.get(error.streamId) ?? 0) + 1;
        conflicts.set(error.streamId, tries);
        if (tries > deps.maxRetries) {
          for (const g of hit) {
            results[g.index] = { ok: false, error: { code: 'CONCURRENCY', message: `${error.streamId} kept changing; gave up after ${tries} tries` } };
          }
          pending = pending.filter((g) => g.streamId !== error.streamId);
          continue;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * tries));
      }
    }
  };
  return deps.inLanes ? deps.inLanes(streamIds, decideAndAppend) : decideAndAppend();
}

function parseGroup(inputs: unknown[], route: (c: ParleyCommand) => Route): { commands: ParleyCommand[]; routes: Route[]; streamId: string } | { error: CommandError } {
  if (inputs.length === 0) return { error: { code: 'VALIDATION', message: 'a group needs at least one command' } };
  const commands: ParleyCommand[] = [];
  for (const input of inputs) {
    const parsed = ParleyCommand.safeParse(input);
    if (!parsed.success) return { error: validationError(parsed.error).error };
    commands.push(parsed.data);
  }
  const routes = commands.map(route);
  const streamId = routes[0]!.streamId;
  if (routes.some((r) => r.streamId !== streamId)) return { error: { code: 'VALIDATION', message: 'the commands of a group must act on one stream' } };
  return { commands, routes, streamId };
}
