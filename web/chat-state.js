// The chat page's shared state (signed-in user, conversation list, the open conversation, live
// streams), its GraphQL client and queries, and the message model (normalizing a message, a
// placeholder answer, grouping answers under their question). Every other part of the page reads
// and changes this one state; nothing here touches the DOM beyond `$`.
import { createClient } from './api.js';
import { APPEAL_FIELDS } from './appeals.js';
import { TOOL_CALL_FIELDS, foldContinuations } from './tool-calls.js';
import { CITATION_FIELDS } from './citations.js';

export const TOKEN_KEY = 'parley.token';
export const PAGE_SIZE = 30;

const MESSAGE_FIELDS = `id role content status parentId replyTo generationId siblingOf
  safetyCategories { category blocked } finishReason usage { promptTokens completionTokens } feedback { rating comment } createdAt
  ${APPEAL_FIELDS} ${TOOL_CALL_FIELDS} ${CITATION_FIELDS}`;
export const Q = {
  me: `query Me { me { userId tenantId roles } }`,
  list: `query Conversations($first: Int, $after: String, $search: String, $pos: String) {
    conversations(first: $first, after: $after, search: $search, consistentWith: $pos) {
      edges { node { id title updatedAt } } pageInfo { hasNextPage endCursor } } }`,
  conversation: `query Conversation($id: ID!, $pos: String) {
    conversation(id: $id, consistentWith: $pos) { id title systemPrompt updatedAt messages { ${MESSAGE_FIELDS} } } }`,
  send: `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) {
    conversation { id title systemPrompt updatedAt } message { ${MESSAGE_FIELDS} } generation { id } position } }`,
  regenerate: `mutation Regenerate($id: ID!) { regenerate(generationId: $id) { generation { id } position } }`,
  cancel: `mutation Cancel($id: ID!) { cancelGeneration(id: $id) { generation { id } position } }`,
  feedback: `mutation Feedback($input: FeedbackInput!) { giveFeedback(input: $input) { generation { id } position } }`,
  rename: `mutation Rename($id: ID!, $title: String!) { renameConversation(id: $id, title: $title) { conversation { id title updatedAt } position } }`,
  remove: `mutation Delete($id: ID!) { deleteConversation(id: $id) { id deleted position } }`,
};

export const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

export const state = {
  token: localStorage.getItem(TOKEN_KEY),
  me: null,
  list: { items: [], endCursor: null, hasNext: false, search: '', request: 0 },
  /** @type {{ id: string, title: string, systemPrompt: string | null, messages: any[] } | null} */
  conv: null,
  selected: new Map(), // user message id → id of the answer shown
  streams: new Map(), // generation id → AbortController
  sending: false,
  rateLimitedUntil: 0,
};

export const api = createClient({ getToken: () => state.token });

// ---------------------------------------------------------------- the message model

export function normalizeMessage(m) {
  const blocked = (m.safetyCategories ?? []).filter((c) => c.blocked).map((c) => c.category);
  return { ...m, category: blocked.join(', ') || null, error: null, connection: null };
}

export function placeholderAnswer(id, replyTo, siblingOf) {
  return { id, role: 'assistant', content: '', status: 'pending', replyTo, generationId: id, siblingOf, feedback: null, category: null, error: null, connection: 'connecting' };
}

export function groupAnswers() {
  const groups = new Map();
  for (const m of state.conv?.messages ?? []) {
    if (m.role !== 'assistant' || !m.replyTo) continue;
    if (!groups.has(m.replyTo)) groups.set(m.replyTo, []);
    groups.get(m.replyTo).push(m);
  }
  // A turn's continuations after tool calls are part of its answer, not siblings (tool-calls.js).
  for (const [id, answers] of groups) groups.set(id, foldContinuations(answers));
  return groups;
}
