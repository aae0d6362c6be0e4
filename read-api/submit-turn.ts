import type { CommandResult } from '../commands/command-result.ts';
import { SamplingParams, type Actor } from '../schemas/common.ts';
import type { RetrievalSetting } from '../schemas/knowledge.ts';
import type { SafetySettings } from '../schemas/safety.ts';
import type { Services } from './context.ts';

// One intake for a user's turn, shared by GraphQL's sendMessage and the OpenAI endpoint: the turn's
// ids, then StartConversation (when the turn opens a conversation) and SubmitMessage appended in one
// atomic append, so a refused message never leaves an empty conversation behind. Admission (quotas,
// shedding, the saga's hint) stays with each caller: GraphQL settles a turn when its generation
// ends, the OpenAI endpoint when its response does.

export type Turn = {
  conversationId: string;
  messageId: string;
  /** the answer's id, known before anything is appended: a client subscribes to it at once */
  generationId: string;
  /** the turn opens this conversation */
  opens: boolean;
};

export type TurnInput = {
  actor: Actor;
  /** follows the turn through saga, worker and projections */
  correlationId: string;
  content: string;
  parentMessageId?: string | null;
  /** SubmitMessage's sampling parameters (missing ones: turnSampling) */
  params: Record<string, unknown>;
  /** for a conversation the turn opens: its title (default: the message's opening), system prompt and model */
  title?: string | null;
  systemPrompt?: string | null;
  model: string;
  /** the model this message asks for over its conversation's (recorded on MessageSubmitted); absent: the conversation's */
  messageModel?: string;
  /** the client's tools section offered with this turn (MessageSubmitted.toolsPrompt) */
  toolsPrompt?: string | null;
  /** for a conversation the turn opens: its safety settings (already checked against the floors) */
  safetySettings?: SafetySettings;
  /** retrieval for this turn and the conversation's next ones (recorded on MessageSubmitted; already checked) */
  retrieval?: RetrievalSetting;
};

/** ids for a turn in `conversationId`, or in a new conversation when it is null */
export function newTurn(services: Pick<Services, 'newId'>, conversationId: string | null): Turn {
  return { conversationId: conversationId ?? services.newId(), messageId: services.newId(), generationId: services.newId(), opens: conversationId === null };
}

/** SubmitMessage's own defaults, for a model whose folder has no generation_config.json */
const SCHEMA_DEFAULTS = SamplingParams.parse({});
const SCHEMA_SAMPLING = { temperature: SCHEMA_DEFAULTS.temperature, topP: SCHEMA_DEFAULTS.topP, topK: SCHEMA_DEFAULTS.topK };

/**
 * A turn's sampling: what the client set, else the model's own defaults (its generation_config.json:
 * the shipped model's is greedy), else SubmitMessage's schema defaults. Without the model's defaults
 * an official OpenAI client (which sends no temperature) sampled the shipped model at 1 (golden
 * 552 → 539/860, and long arguments ran on) and the page at 0.7. The model is the one the turn names
 * (or the tenant's default); a conversation continued on another model, or an experiment's arm, still
 * gets the named one's defaults.
 */
export function turnSampling(services: Pick<Services, 'models'>, model: string, params: Record<string, unknown>): Record<string, unknown> {
  const set = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== null));
  return { ...(services.models?.samplingDefaults(model) ?? SCHEMA_SAMPLING), ...set };
}

/** start (if the turn opens its conversation) + submit, in one append; `dryRun` decides and appends nothing */
export async function submitTurn(services: Pick<Services, 'commands' | 'newId' | 'accepted' | 'models'>, turn: Turn, input: TurnInput, options: { dryRun?: boolean } = {}): Promise<CommandResult> {
  const metadata = () => ({ commandId: services.newId(), actor: input.actor, correlationId: input.correlationId });
  const params = turnSampling(services, input.messageModel ?? input.model, input.params);
  const submit = {
    type: 'SubmitMessage',
    data: { conversationId: turn.conversationId, messageId: turn.messageId, generationId: turn.generationId, content: input.content, parentMessageId: input.parentMessageId ?? null, params, ...(input.messageModel ? { model: input.messageModel } : {}), ...(input.retrieval ? { retrieval: input.retrieval } : {}), ...(input.toolsPrompt ? { toolsPrompt: input.toolsPrompt } : {}) },
    metadata: metadata(),
  };
  const start = {
    type: 'StartConversation',
    data: { conversationId: turn.conversationId, title: input.title ?? defaultTitle(input.content), systemPrompt: input.systemPrompt ?? null, model: input.model, safetySettings: input.safetySettings ?? {} },
    metadata: metadata(),
  };
  // A conversation the turn opens has an id newTurn minted just now: no stream to read before deciding.
  const result = turn.opens
    ? await services.commands.executeAll([start, submit], { ...options, expectedRevision: 'no_stream' })
    : await services.commands.executeAll([submit], options);
  if (result.ok && !options.dryRun) services.accepted?.remember(turn.generationId, input.actor);
  return result;
}

/** a conversation's default title: the opening of its first message, cut on a character boundary */
export function defaultTitle(content: string): string {
  let title = content.replace(/\u0000/g, '').trim().slice(0, 60);
  // A cut between the halves of a surrogate pair (an emoji) would leave invalid text.
  if (/[\uD800-\uDBFF]$/.test(title)) title = title.slice(0, -1);
  return title.trim() || 'New conversation';
}
