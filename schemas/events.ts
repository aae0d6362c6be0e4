import { z } from 'zod';
import { EventMetadata, FinishReason, Id, Rating, SamplingParams, Text, Usage } from './common.ts';
import { knowledgeEvents, RetrievalRecord, RetrievalSetting, RetrievedSource } from './knowledge.ts';
import { ConversationSummarized, SummaryRequest } from './summary.ts';
import { CategoryScore, EffectivePolicy, SafetyCategory, SafetySettings, SafetyStage, SafetyVerdict } from './safety.ts';
import { ExperimentArmRef } from './models.ts';
import { ToolFailureCode, ToolName } from './tools.ts';

// Every event: { type, version, data, metadata }. `version` is the schema version of `data`;
// older versions are upcast on read (see upcasters.ts), never rewritten in the store.
function defineEvent<T extends string, V extends number, D extends z.ZodType>(type: T, version: V, data: D) {
  return z.object({
    type: z.literal(type),
    version: z.literal(version),
    data,
    metadata: EventMetadata,
  });
}

export const ConversationStarted = defineEvent(
  'ConversationStarted',
  1,
  z.object({
    conversationId: Id,
    ownerId: Id,
    tenantId: Id,
    title: Text,
    systemPrompt: Text.nullable(),
    model: z.string().min(1),
    safetySettings: SafetySettings,
  }),
);

// v2 added parentMessageId (an edit branches from an earlier turn) and generationId (the id the
// answer will have, so a client can subscribe at once). v1 events read as "no parent".
export const MessageSubmitted = defineEvent(
  'MessageSubmitted',
  2,
  z.object({
    conversationId: Id,
    messageId: Id,
    generationId: Id,
    role: z.literal('user'),
    content: Text,
    parentMessageId: Id.nullable(),
    params: SamplingParams,
    // The model this turn asked for, over the conversation's (a per-message override; the OpenAI
    // endpoint always names one). Absent: the conversation's model. Added without a new version.
    model: z.string().min(1).optional(),
    // Retrieval from the tenant's documents for this turn and, until another message names one, the
    // conversation's later turns (`collections: []` switches it off). Added without a new version.
    retrieval: RetrievalSetting.optional(),
    // The tools section (`<tools>…</tools>`, schemas/tool-call-format.ts) this turn offers the model:
    // an OpenAI request's own `tools`, offered for this turn only (a continued conversation offers
    // each request's tools, not the first one's). Encrypted like the content. Added without a new version.
    toolsPrompt: Text.max(2_000_000).optional(),
  }),
);
export const MessageSubmittedV1Data = z.object({
  conversationId: Id,
  messageId: Id,
  role: z.literal('user'),
  content: z.string(),
  params: SamplingParams,
});

export const SafetyChecked = defineEvent(
  'SafetyChecked',
  1,
  z.object({
    conversationId: Id,
    messageId: Id.nullable(),
    generationId: Id.nullable(),
    stage: SafetyStage,
    verdict: SafetyVerdict,
    categories: z.array(CategoryScore),
    policyVersion: z.string().min(1),
    latencyMs: z.number().min(0),
    degraded: z.boolean(),
    // sha256 of the checked text: audit can prove what was checked without keeping it.
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    // The thresholds the check ran under. Absent on decisions recorded before it was added.
    effectivePolicy: EffectivePolicy.optional(),
  }),
);

// v2 carries what a worker needs to run the generation, so it reads nothing else: the assembled
// prompt (packed token ids, encrypted at rest like message text: see prompt.ts), the conversation's
// safety settings for the output filter, and the input check's decision for the message. v1 events
// read with all three null: the worker then rebuilds the prompt from the conversation, as v1 did.
export const InputCheck = z.object({
  verdict: SafetyVerdict,
  category: SafetyCategory.nullable(), // the blocked category, if blocked
  safetyEventId: z.uuid(), // the SafetyChecked event (what an appeal names)
});
export type InputCheck = z.infer<typeof InputCheck>;

const GenerationRequestedV1Fields = {
  generationId: Id,
  conversationId: Id,
  messageId: Id,
  ownerId: Id,
  tenantId: Id,
  model: z.string().min(1),
  params: SamplingParams,
  // Which turns the assembled context holds; dropped turns are recorded, not silently lost.
  context: z.object({
    includedMessageIds: z.array(Id),
    droppedMessageIds: z.array(Id),
    promptTokens: z.number().int().min(0),
    // The rolling summary the prompt's system turn carries (it covers the first dropped turns).
    summaryId: Id.optional(),
  }),
  siblingOf: Id.nullable(),
  priority: z.number().int().min(0).max(9),
  brownout: z.boolean(),
};
export const GenerationRequestedV1Data = z.object(GenerationRequestedV1Fields);

export const GenerationRequested = defineEvent(
  'GenerationRequested',
  2,
  z.object({
    ...GenerationRequestedV1Fields,
    // Packed prompt token ids (prompt.ts); a string so the field codec encrypts it, and so it reads
    // as "[erased]" after erasure. null: not recorded (v1, a blocked input, a context that did not fit).
    prompt: z.string().nullable(),
    safetySettings: SafetySettings.nullable(),
    inputCheck: InputCheck.nullable(),
    // How `model` was chosen, when not simply as asked (optional, added without a new version):
    // the A/B arm the user hashed to, and the model asked for when a fallback served instead.
    experiment: ExperimentArmRef.optional(),
    fallbackFrom: z.string().min(1).optional(),
    // A continuation after a round of server-side tool calls: the generation whose calls it follows,
    // the turn's first generation, and the round (1 … 4). Absent or null: the turn's first generation.
    continues: z.object({ generationId: Id, rootGenerationId: Id, round: z.number().int().min(1) }).nullable().optional(),
    // A rolling summary's generation (schemas/summary.ts), not an answer: the turns it summarises.
    // Absent or null: an answer. Read models of answers (history, rlhf) leave these out.
    summarizes: SummaryRequest.nullable().optional(),
    // The passages retrieved into the system turn (ids and scores, in prompt order), when the turn
    // asked for retrieval. Absent: none asked. Added without a new version.
    retrieval: RetrievalRecord.optional(),
    // The server-side tools the system turn offered (inference/tools/selection.ts), the same in each
    // round of a turn. Absent: recorded before tool selection (the tenant's tools were offered) or an
    // OpenAI API turn (the client's own tools). Added without a new version.
    tools: z.array(ToolName).optional(),
  }),
);

// v2 seals the token ids: they are the answer's text in another alphabet (anyone with the
// tokenizer reads them back), so like `text` they are encrypted with the conversation's key and
// unreadable after an erasure. v1 stored them in clear as `tokenIds`.
export const TokensGenerated = defineEvent(
  'TokensGenerated',
  2,
  z.object({
    generationId: Id,
    attempt: z.number().int().min(1),
    firstIndex: z.number().int().min(0),
    // How many tokens the chunk holds (indices firstIndex … firstIndex + tokenCount − 1).
    tokenCount: z.number().int().min(0),
    // The token ids, packed (schemas/prompt.ts packTokenIds); "[erased]" once the key is destroyed.
    tokens: z.string(),
    text: Text,
    // Where each token's text starts within `text`, so a stream can resume after any token.
    textOffsets: z.array(z.number().int().min(0)).optional(),
  }),
);
export const TokensGeneratedV1Data = z.object({
  generationId: Id,
  attempt: z.number().int().min(1),
  firstIndex: z.number().int().min(0),
  tokenIds: z.array(z.number().int().min(0)),
  text: Text,
  textOffsets: z.array(z.number().int().min(0)).optional(),
});

export const GenerationCompleted = defineEvent(
  'GenerationCompleted',
  1,
  z.object({
    generationId: Id,
    attempt: z.number().int().min(1),
    finishReason: FinishReason,
    usage: Usage,
    ttftMs: z.number().min(0),
    tpotMs: z.number().min(0),
    workerId: z.string().min(1),
  }),
);

export const GenerationFailed = defineEvent(
  'GenerationFailed',
  1,
  z.object({
    generationId: Id,
    attempt: z.number().int().min(0),
    code: z.string().min(1),
    reason: z.string(),
  }),
);

export const GenerationCancelled = defineEvent(
  'GenerationCancelled',
  1,
  z.object({
    generationId: Id,
    reason: z.string(),
    usage: Usage.nullable(),
  }),
);

// Server-side tool calls (inference/tools/), on the stream of the generation whose text made them:
// requested once the generation completed, then completed or failed. The owner and tenant are the
// generation's (audit needs no join); the arguments, result and failure message are personal text,
// encrypted with the conversation's key like message text.
const ToolCallFields = {
  toolCallId: Id,
  generationId: Id,
  conversationId: Id,
  ownerId: Id,
  tenantId: Id,
  name: z.string().min(1).max(64),
};
export const ToolCallRequested = defineEvent(
  'ToolCallRequested',
  1,
  z.object({
    ...ToolCallFields,
    messageId: Id,
    round: z.number().int().min(1), // 1 for the calls of the turn's first generation
    index: z.number().int().min(0), // the call's place among the generation's calls
    arguments: z.string(), // JSON text of the arguments as the model wrote them; "[erased]" after erasure
  }),
);
export const ToolCallCompleted = defineEvent(
  'ToolCallCompleted',
  1,
  z.object({
    ...ToolCallFields, result: z.string(), truncated: z.boolean(), latencyMs: z.number().min(0),
    // search_documents: the passages its result numbers [1], [2], … (ids and scores), so an answer
    // citing them resolves (Message.citations). Added without a new version.
    sources: z.array(RetrievedSource).optional(),
  }),
);
export const ToolCallFailed = defineEvent(
  'ToolCallFailed',
  1,
  z.object({
    ...ToolCallFields,
    code: ToolFailureCode,
    message: z.string(), // what the model is told
    latencyMs: z.number().min(0),
    // RESULT_BLOCKED: the category the injection check blocked the result for.
    blockedCategory: SafetyCategory.nullable().default(null),
  }),
);

export const FeedbackGiven = defineEvent(
  'FeedbackGiven',
  1,
  z.object({
    generationId: Id,
    conversationId: Id,
    userId: Id,
    rating: Rating,
    comment: Text.nullable(),
  }),
);

export const ConversationRenamed = defineEvent(
  'ConversationRenamed',
  1,
  z.object({ conversationId: Id, title: Text }),
);

export const ConversationDeleted = defineEvent('ConversationDeleted', 1, z.object({ conversationId: Id }));

export const UserDataErased = defineEvent(
  'UserDataErased',
  1,
  z.object({ userId: Id, tenantId: Id, reason: z.enum(['user_request', 'admin_request', 'retention']) }),
);

// A conversation erased by the tenant's retention period: its key is destroyed, read models forget it.
export const ConversationErased = defineEvent(
  'ConversationErased',
  1,
  z.object({ conversationId: Id, ownerId: Id, tenantId: Id, reason: z.enum(['retention', 'admin_request']), retentionDays: z.number().int().min(0).nullable() }),
);

// A subject-access export (GDPR right of access): who asked, for whom, through which channel. Only
// ids: the export itself is never stored, so the log holds nothing it did not hold before.
export const UserDataExported = defineEvent(
  'UserDataExported',
  1,
  z.object({ userId: Id, tenantId: Id, exportedBy: Id, channel: z.enum(['graphql', 'http', 'cli']) }),
);

export const AppealFiled = defineEvent(
  'AppealFiled',
  1,
  z.object({ appealId: Id, safetyEventId: z.uuid(), userId: Id, tenantId: Id, reason: Text }),
);

export const AppealResolved = defineEvent(
  'AppealResolved',
  1,
  z.object({ appealId: Id, outcome: z.enum(['upheld', 'overturned']), note: z.string(), resolvedBy: Id }),
);

// A model made the deployment's default after it passed the golden set (`parley model promote`).
// One stream, `models`: the last promotion is the default.
export const ModelPromoted = defineEvent(
  'ModelPromoted',
  1,
  z.object({
    model: z.string().min(1),
    previous: z.string().min(1).nullable(),
    goldenSet: z.string().min(1),
    passed: z.number().int().min(0),
    total: z.number().int().min(1),
    threshold: z.number().min(0).max(1),
    // The per-skill gate (`parley model promote` without --threshold): each skill's score on the gate's
    // subset and the floor it had to reach; `threshold` is then 0 (no whole-set share).
    skills: z.array(z.object({ skill: z.string().min(1), ok: z.number().int().min(0), n: z.number().int().min(1), floor: z.number().min(0).max(1) })).optional(),
  }),
);

export const ParleyEvent = z.discriminatedUnion('type', [
  ConversationStarted,
  MessageSubmitted,
  SafetyChecked,
  GenerationRequested,
  TokensGenerated,
  GenerationCompleted,
  GenerationFailed,
  GenerationCancelled,
  ToolCallRequested,
  ToolCallCompleted,
  ToolCallFailed,
  FeedbackGiven,
  ConversationRenamed,
  ConversationDeleted,
  UserDataErased,
  UserDataExported,
  ConversationErased,
  AppealFiled,
  AppealResolved,
  ...knowledgeEvents,
  ConversationSummarized,
  ModelPromoted,
]);
export type ParleyEvent = z.infer<typeof ParleyEvent>;
export type EventType = ParleyEvent['type'];
export type EventOf<T extends EventType> = Extract<ParleyEvent, { type: T }>;
export type EventData<T extends EventType> = EventOf<T>['data'];

export const eventSchemas = Object.fromEntries(ParleyEvent.options.map((s) => [s.shape.type.value, s])) as unknown as {
  [T in EventType]: z.ZodType<EventOf<T>>;
};

export const currentVersion = Object.fromEntries(
  ParleyEvent.options.map((s) => [s.shape.type.value, s.shape.version.value]),
) as Record<EventType, number>;

export const eventTypes = Object.keys(currentVersion) as EventType[];

// A schema id data scientists' tools can resolve against schemas/json/.
export function schemaId(type: EventType): string {
  return `https://parley.dev/schemas/events/${type}.v${currentVersion[type]}.json`;
}
