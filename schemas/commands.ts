import { z } from 'zod';
import { Actor, Id, Rating, SamplingParams, Text, Usage } from './common.ts';
import { SafetySettings } from './safety.ts';
import { SummarizeConversationData } from './summary.ts';
import { AddDocumentData, ForgetMemoryData, RemoveDocumentData, RetrievalSetting, SaveMemoryData } from './knowledge.ts';
import { GenerationCompleted, GenerationRequested, SafetyChecked, TokensGenerated, ToolCallCompleted, ToolCallFailed, ToolCallRequested } from './events.ts';

// Command metadata: who asks, and the id that makes a retry of the same command a no-op.
export const CommandMetadata = z.object({
  commandId: z.string().min(1).max(128),
  actor: Actor,
  correlationId: z.string().min(1).optional(),
  causationId: z.string().min(1).optional(),
});
export type CommandMetadata = z.infer<typeof CommandMetadata>;

function defineCommand<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.object({ type: z.literal(type), data, metadata: CommandMetadata });
}

export const StartConversation = defineCommand(
  'StartConversation',
  z.object({
    conversationId: Id,
    title: Text.trim().default('New conversation'),
    systemPrompt: Text.nullable().default(null),
    model: z.string().min(1).default('parley-tiny'),
    safetySettings: SafetySettings.default({}),
  }),
);

export const SubmitMessage = defineCommand(
  'SubmitMessage',
  z.object({
    conversationId: Id,
    messageId: Id,
    generationId: Id,
    content: Text,
    parentMessageId: Id.nullable().default(null),
    params: SamplingParams.default(SamplingParams.parse({})),
    // a per-message model override (checked against the registry by the API before it gets here)
    model: z.string().min(1).optional(),
    // retrieval for this turn and the conversation's next ones (schemas/knowledge.ts)
    retrieval: RetrievalSetting.optional(),
    // the client's tools section for this turn (MessageSubmitted.toolsPrompt)
    toolsPrompt: Text.max(2_000_000).optional(),
  }),
);

export const RenameConversation = defineCommand(
  'RenameConversation',
  z.object({ conversationId: Id, title: Text.trim() }),
);

export const DeleteConversation = defineCommand('DeleteConversation', z.object({ conversationId: Id }));

export const GiveFeedback = defineCommand(
  'GiveFeedback',
  z.object({ generationId: Id, rating: Rating, comment: Text.nullable().default(null) }),
);

// Generation lifecycle, issued by the saga and the workers.
// The generation lifecycle commands carry what their events will record (the event schemas are the
// one definition), with defaults a caller may omit.
export const RequestGeneration = defineCommand(
  'RequestGeneration',
  GenerationRequested.shape.data.extend({
    siblingOf: Id.nullable().default(null),
    priority: z.number().int().min(0).max(9).default(0),
    brownout: z.boolean().default(false),
    prompt: z.string().nullable().default(null),
    safetySettings: SafetySettings.nullable().default(null),
    inputCheck: GenerationRequested.shape.data.shape.inputCheck.default(null),
  }),
);

// The verdict of a safety check, recorded by the saga (stage input: on the conversation, once per
// message) or a worker (stage output: on the generation, while it runs).
export const RecordSafetyCheck = defineCommand('RecordSafetyCheck', SafetyChecked.shape.data);
export type RecordSafetyCheck = z.infer<typeof RecordSafetyCheck>;

// The ids as sampled; the decider seals them into the event (TokensGenerated v2).
export const AppendTokens = defineCommand(
  'AppendTokens',
  TokensGenerated.shape.data.omit({ tokenCount: true, tokens: true }).extend({ tokenIds: z.array(z.number().int().min(0)).min(1) }),
);

export const CompleteGeneration = defineCommand('CompleteGeneration', GenerationCompleted.shape.data);

export const FailGeneration = defineCommand(
  'FailGeneration',
  z.object({ generationId: Id, attempt: z.number().int().min(0), code: z.string().min(1), reason: z.string() }),
);

export const CancelGeneration = defineCommand(
  'CancelGeneration',
  z.object({ generationId: Id, reason: z.string().default('cancelled by user'), usage: Usage.nullable().default(null) }),
);

// Server-side tool calls, issued by the saga on a completed generation. The decider fills in the
// conversation, owner and tenant from the generation itself.
const fromGeneration = { conversationId: true, ownerId: true, tenantId: true } as const;
export const RequestToolCall = defineCommand('RequestToolCall', ToolCallRequested.shape.data.omit(fromGeneration));
export const CompleteToolCall = defineCommand('CompleteToolCall', ToolCallCompleted.shape.data.omit(fromGeneration));
export const FailToolCall = defineCommand('FailToolCall', ToolCallFailed.shape.data.omit(fromGeneration));

export const FileAppeal = defineCommand(
  'FileAppeal',
  z.object({ appealId: Id, safetyEventId: z.uuid(), reason: Text.trim().min(1).max(2000) }),
);

export const ResolveAppeal = defineCommand(
  'ResolveAppeal',
  z.object({ appealId: Id, outcome: z.enum(['upheld', 'overturned']), note: z.string().max(2000).default('') }),
);

// GDPR erasure of a user (by themself or an admin of their tenant): their keys are destroyed first.
// The user is (tenantId, userId); tenantId defaults to the caller's tenant.
export const EraseUserData = defineCommand(
  'EraseUserData',
  z.object({ userId: Id, tenantId: Id.optional(), reason: z.enum(['user_request', 'admin_request']).default('user_request') }),
);

// A subject-access export (the user themself or an admin of their tenant), recorded before it is served.
export const ExportUserData = defineCommand(
  'ExportUserData',
  z.object({ userId: Id, tenantId: Id.optional(), channel: z.enum(['graphql', 'http', 'cli']) }),
);

export const EraseConversation = defineCommand(
  'EraseConversation',
  z.object({ conversationId: Id, reason: z.enum(['retention', 'admin_request']), retentionDays: z.number().int().min(0).nullable().default(null) }),
);

// Make a model the default after it passed the golden set (`parley model promote`); the decider
// refuses a result below the threshold, so the gate holds whoever sends the command.
export const PromoteModel = defineCommand(
  'PromoteModel',
  z.object({
    model: z.string().min(1),
    goldenSet: z.string().min(1),
    passed: z.number().int().min(0),
    total: z.number().int().min(1),
    threshold: z.number().min(0).max(1),
    // The per-skill gate (`parley model promote` without --threshold): each skill's score on the gate's
    // subset and the floor it had to reach; `threshold` is then 0 (no whole-set share).
    skills: z.array(z.object({ skill: z.string().min(1), ok: z.number().int().min(0), n: z.number().int().min(1), floor: z.number().min(0).max(1) })).optional(),
  }),
);
export type PromoteModel = z.infer<typeof PromoteModel>;

// Recorded by the saga when a summary generation completed (schemas/summary.ts, domain/summary.ts).
export const SummarizeConversation = defineCommand('SummarizeConversation', SummarizeConversationData);

export const ConversationCommand = z.discriminatedUnion('type', [
  StartConversation,
  SubmitMessage,
  RenameConversation,
  DeleteConversation,
  EraseConversation,
]);
export type ConversationCommand = z.infer<typeof ConversationCommand>;

export const GenerationCommand = z.discriminatedUnion('type', [
  RequestGeneration,
  AppendTokens,
  CompleteGeneration,
  FailGeneration,
  CancelGeneration,
  GiveFeedback,
  RequestToolCall,
  CompleteToolCall,
  FailToolCall,
]);
export type GenerationCommand = z.infer<typeof GenerationCommand>;
// RecordSafetyCheck is routed by its stage (input: conversation, output: generation), so it is in
// neither union; each decider takes it alongside its own commands.
export type ConversationDeciderCommand = ConversationCommand | RecordSafetyCheck;
export type GenerationDeciderCommand = GenerationCommand | RecordSafetyCheck;

// Long-term knowledge (schemas/knowledge.ts): a user's memories and a tenant's documents.
export const SaveMemory = defineCommand('SaveMemory', SaveMemoryData);
export const ForgetMemory = defineCommand('ForgetMemory', ForgetMemoryData);
export const AddDocument = defineCommand('AddDocument', AddDocumentData);
export const RemoveDocument = defineCommand('RemoveDocument', RemoveDocumentData);
export const KnowledgeCommand = z.discriminatedUnion('type', [SaveMemory, ForgetMemory, AddDocument, RemoveDocument]);
export type KnowledgeCommand = z.infer<typeof KnowledgeCommand>;

export const AppealCommand = z.discriminatedUnion('type', [FileAppeal, ResolveAppeal]);
export type AppealCommand = z.infer<typeof AppealCommand>;

export const ParleyCommand = z.discriminatedUnion('type', [
  EraseUserData,
  ExportUserData,
  RecordSafetyCheck,
  ...ConversationCommand.options,
  ...GenerationCommand.options,
  ...AppealCommand.options,
  ...KnowledgeCommand.options,
  SummarizeConversation,
  PromoteModel,
]);
export type ParleyCommand = z.infer<typeof ParleyCommand>;
export type CommandType = ParleyCommand['type'];
export type CommandOf<T extends CommandType> = Extract<ParleyCommand, { type: T }>;
// What a caller passes before defaults are applied.
export type CommandInput<T extends CommandType> = z.input<Extract<(typeof ParleyCommand.options)[number], { shape: { type: z.ZodLiteral<T> } }>>;
