import assert from 'node:assert/strict';
import type { Decision, DomainErrorCode, DomainEvent } from '../../domain/decision.ts';
import { CommandMetadata } from '../../schemas/commands.ts';
import type { ParleyEvent } from '../../schemas/events.ts';
import type { Actor } from '../../schemas/common.ts';
import { alice, metadata } from './events.ts';

// given(events) → when(command) → then(events | error code), over a pure decider.
export function spec<S, C>(decider: { initial: () => S; evolve: (s: S, e: ParleyEvent) => S; decide: (c: C, s: S) => Decision }) {
  return (given: DomainEvent[]) => ({
    when: (command: C) => {
      const state = given.map((e) => ({ ...e, metadata: metadata() }) as ParleyEvent).reduce(decider.evolve, decider.initial());
      const decision = decider.decide(command, state);
      return {
        then: (expected: DomainEvent[]) => {
          assert.ok(decision.ok, `expected events, got ${JSON.stringify(!decision.ok && decision.error)}`);
          assert.deepEqual(decision.events, expected);
        },
        thenError: (code: DomainErrorCode, field?: string) => {
          assert.ok(!decision.ok, `expected ${code}, got events ${JSON.stringify(decision.ok && decision.events)}`);
          assert.equal(decision.error.code, code);
          if (field) assert.equal(decision.error.field, field);
        },
      };
    },
  });
}

export const cmdMeta = (actor: Actor = alice): CommandMetadata => ({ commandId: `cmd-${Math.random()}`, actor });
