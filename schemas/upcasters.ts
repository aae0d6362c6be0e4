import { z } from 'zod';
import { currentVersion, eventSchemas, GenerationRequestedV1Data, MessageSubmittedV1Data, TokensGeneratedV1Data, type EventType, type ParleyEvent } from './events.ts';
import { packTokenIds } from './prompt.ts';

// A stored event as it came out of the store: any version, data not yet trusted.
export const StoredEvent = z.object({
  type: z.string(),
  version: z.number().int().min(1),
  data: z.unknown(),
  metadata: z.unknown(),
});
export type StoredEvent = z.infer<typeof StoredEvent>;

type Upcaster = (data: unknown) => unknown;

// upcasters[type][v] turns version v data into version v+1 data.
const upcasters: Partial<Record<EventType, Record<number, Upcaster>>> = {
  MessageSubmitted: {
    1: (data) => {
      const v1 = MessageSubmittedV1Data.parse(data);
      return { ...v1, parentMessageId: null, generationId: `gen-${v1.messageId}` };
    },
  },
  // v1 recorded which turns the prompt held, not the prompt: a worker rebuilds it from the
  // conversation (inference/saga/context-assembly.ts promptFor), reads the settings from
  // ConversationStarted and the input decision from the conversation's SafetyChecked, as v1 did.
  GenerationRequested: {
    1: (data) => ({ ...GenerationRequestedV1Data.parse(data), prompt: null, safetySettings: null, inputCheck: null }),
  },
  // v1 kept the ids in clear (they stay so at rest in events written before v2).
  TokensGenerated: {
    1: (data) => {
      const { tokenIds, ...rest } = TokensGeneratedV1Data.parse(data);
      return { ...rest, tokenCount: tokenIds.length, tokens: packTokenIds(tokenIds) };
    },
  },
};

export class UnknownEventError extends Error {
  readonly code = 'UNKNOWN_EVENT';
}

// Applied on every read: the store keeps what was written; readers see the current version.
export function upcast(stored: StoredEvent): ParleyEvent {
  const type = stored.type as EventType;
  const target = currentVersion[type];
  if (target === undefined) throw new UnknownEventError(`unknown event type ${stored.type}`);
  if (stored.version === target) return stored as ParleyEvent;
  if (stored.version > target) {
    throw new UnknownEventError(`${type} v${stored.version} is newer than this build knows (v${target})`);
  }
  let data = stored.data;
  for (let v = stored.version; v < target; v++) {
    const step = upcasters[type]?.[v];
    if (!step) throw new UnknownEventError(`no upcaster for ${type} v${v} → v${v + 1}`);
    data = step(data);
  }
  return eventSchemas[type].parse({ ...stored, version: target, data }) as ParleyEvent;
}
