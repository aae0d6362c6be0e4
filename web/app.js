// Parley's reference chat page: plain DOM, the public GraphQL API only (see api.js and stream.js).
import { ApiError, createClient } from './api.js';
import { followGeneration } from './stream.js';
import { APPEAL_FIELDS, appealBlock, createAppealPoller } from './appeals.js';
import { el } from './dom.js';
import { TOOL_CALL_FIELDS, foldContinuations, toolSteps, visibleText } from './tool-calls.js';
import { CITATION_FIELDS, citationList, hasCitationMarker } from './citations.js';

const TOKEN_KEY = 'parley.token';
const PAGE_SIZE = 30;

const MESSAGE_FIELDS = `id role content status parentId replyTo generationId siblingOf
  safetyCategories { category blocked } finishReason usage { promptTokens completionTokens } feedback { rating comment } createdAt
  ${APPEAL_FIELDS} ${TOOL_CALL_FIELDS} ${CITATION_FIELDS}`;
const Q = {
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

const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

const state = {
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

const api = createClient({ getToken: () => state.token });

// Appeals (appeals.js): the controls under a safety notice, and the status refreshed while one is open.
const appeals = createAppealPoller({
  api, conversation: () => state.conv,
  changed: (m) => { rerenderMessage(m); announce(`Your appeal was ${m.appeal.status === 'open' ? 'filed' : m.appeal.status}.`); },
});
const appealUi = { api, rerender: (m, focus) => rerenderMessage(m, focus), announce: (t) => announce(t), onError: (e) => handleError(e), filed: () => appeals.kick() };

function rerenderMessage(m, focusAction = null) {
  if (m.role !== 'user') return rerenderAnswer(m, focusAction);
  const old = document.querySelector(`#messages li[data-message-id="${CSS.escape(m.id)}"]`);
  if (!old) return;
  const fresh = userItem(m);
  old.replaceWith(fresh);
  if (focusAction) fresh.querySelector(`[data-action="${focusAction}"]`)?.focus();
}

// ---------------------------------------------------------------- sign-in

async function start() {
  wireStaticHandlers();
  const saved = state.token;
  if (!saved) return showSignIn();
  const problem = await signInWith(saved, { quiet: true });
  if (problem !== true) showSignIn(problem.code === 'UNAUTHENTICATED' ? 'Your session has expired. Sign in again.' : problem.message);
}

async function showSignIn(message = '') {
  $('#app').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message;
  const dev = await fetch('/auth/dev-login', { headers: { accept: 'application/json' } }).then((r) => r.ok).catch(() => false);
  $('#dev-login').hidden = !dev;
  (dev ? $('#dev-name') : $('#token-input')).focus();
}

async function signInWith(token, { quiet = false } = {}) {
  state.token = token;
  try {
    const { me } = await api.request(Q.me);
    state.me = me;
    localStorage.setItem(TOKEN_KEY, token);
    $('#signin').hidden = true;
    $('#app').hidden = false;
    $('#whoami').textContent = `Signed in as ${me.userId}`;
    await loadList({ reset: true });
    await route();
    return true;
  } catch (error) {
    state.token = null;
    // Only a rejected token is forgotten; an unreachable server keeps it for the next visit.
    if (error.code === 'UNAUTHENTICATED') localStorage.removeItem(TOKEN_KEY);
    if (!quiet) $('#signin-error').textContent = error.code === 'UNAUTHENTICATED' ? `That token was not accepted: ${error.message}` : error.message;
    return error;
  }
}

function signOut(message = '') {
  stopWatching();
  state.token = null;
  state.me = null;
  state.conv = null;
  localStorage.removeItem(TOKEN_KEY);
  history.replaceState(null, '', location.pathname);
  showSignIn(message);
}

// ---------------------------------------------------------------- conversation list

async function loadList({ reset = false, pos = null } = {}) {
  const list = state.list;
  const request = ++list.request;
  const data = await api.request(Q.list, {
    first: PAGE_SIZE, after: reset ? null : list.endCursor, search: list.search || null, pos,
  }).catch((error) => { handleError(error); return null; });
  if (!data || request !== list.request) return;
  const nodes = data.conversations.edges.map((e) => e.node);
  list.items = reset ? nodes : [...list.items, ...nodes];
  list.endCursor = data.conversations.pageInfo.endCursor;
  list.hasNext = data.conversations.pageInfo.hasNextPage;
  renderList();
}

function renderList() {
  const { items, hasNext, search } = state.list;
  $('#conversation-list').replaceChildren(...items.map((c) => el('li', {},
    el('a', { href: `#c=${encodeURIComponent(c.id)}`, 'aria-current': c.id === state.conv?.id ? 'page' : false, text: c.title || 'Untitled' }))));
  const empty = $('#list-empty');
  empty.hidden = items.length > 0;
  empty.textContent = search ? `No conversation matches “${search}”.` : 'No conversations yet.';
  $('#load-more').hidden = !hasNext;
}

function upsertListItem(conversation) {
  if (state.list.search) return void loadList({ reset: true });
  state.list.items = [{ id: conversation.id, title: conversation.title, updatedAt: conversation.updatedAt },
    ...state.list.items.filter((c) => c.id !== conversation.id)];
  renderList();
}

// ---------------------------------------------------------------- routing (#c=<conversation id>)

function routeId() {
  const m = /^#c=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

async function route() {
  const id = routeId();
  if (!id) return newConversation({ focus: false });
  if (id === state.conv?.id) return;
  await openConversation(id);
}

function newConversation({ focus = true } = {}) {
  stopWatching();
  state.conv = null;
  state.selected.clear();
  if (location.hash) history.pushState(null, '', location.pathname);
  $('#options').open = false;
  render();
  closeSidebarOnNarrow();
  if (focus) $('#composer-input').focus();
}

let openRequest = 0;
async function openConversation(id, { pos = null } = {}) {
  stopWatching();
  const request = ++openRequest;
  let data;
  try {
    data = await api.request(Q.conversation, { id, pos });
  } catch (error) {
    return handleError(error);
  }
  if (request !== openRequest) return; // another conversation was opened meanwhile
  if (!data.conversation) {
    showNotice('That conversation does not exist or was deleted.');
    return newConversation();
  }
  state.conv = { ...data.conversation, messages: data.conversation.messages.map(normalizeMessage) };
  state.selected.clear();
  const answersOf = groupAnswers();
  for (const m of state.conv.messages) {
    if (m.role !== 'user') continue;
    const answers = answersOf.get(m.id) ?? [];
    if (answers.length) state.selected.set(m.id, answers.at(-1).id);
    // The answer was asked for but is not in the history yet (or the input check is still running).
    else if (m.generationId && m.status !== 'blocked') {
      const answer = placeholderAnswer(m.generationId, m.id, null);
      state.conv.messages.push(answer);
      state.selected.set(m.id, answer.id);
    }
  }
  hideNotice();
  render();
  appeals.kick();
  closeSidebarOnNarrow();
  for (const m of state.conv.messages) {
    if (m.role === 'assistant' && (m.status === 'streaming' || m.status === 'pending')) watch(m, { replay: m.content !== '' });
  }
  $('#composer-input').focus();
}

function normalizeMessage(m) {
  const blocked = (m.safetyCategories ?? []).filter((c) => c.blocked).map((c) => c.category);
  return { ...m, category: blocked.join(', ') || null, error: null, connection: null };
}

function placeholderAnswer(id, replyTo, siblingOf) {
  return { id, role: 'assistant', content: '', status: 'pending', replyTo, generationId: id, siblingOf, feedback: null, category: null, error: null, connection: 'connecting' };
}

function groupAnswers() {
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

// ---------------------------------------------------------------- rendering

function render() {
  const conv = state.conv;
  $('#conversation-title').textContent = conv ? conv.title || 'Untitled' : 'New conversation';
  document.title = conv ? `${conv.title} · Parley` : 'Parley';
  $('#rename').hidden = !conv;
  $('#delete').hidden = !conv;
  $('#rename-form').hidden = true;
  $('#conversation-title').hidden = false;
  $('#system-prompt').disabled = Boolean(conv);
  $('#system-prompt-label').querySelector('.hint').textContent = conv ? '(set when the conversation began)' : '(new conversation only)';

  const items = [];
  if (conv?.systemPrompt) items.push(el('li', { class: 'msg system' }, el('span', { class: 'who', text: 'System prompt' }), el('div', { class: 'content', text: conv.systemPrompt })));
  const answersOf = groupAnswers();
  for (const m of conv?.messages ?? []) {
    if (m.role !== 'user') continue;
    items.push(userItem(m));
    if (answersOf.has(m.id)) items.push(answerItem(m, answersOf.get(m.id)));
  }
  $('#messages').replaceChildren(...items);
  $('#empty-chat').hidden = items.length > 0;
  renderList();
  updateComposer();
  scrollToBottom(true);
}

function userItem(m) {
  return el('li', { class: `msg user${m.status === 'blocked' ? ' blocked' : ''}`, 'data-message-id': m.id },
    el('span', { class: 'who', text: 'You' }),
    el('div', { class: 'content', text: m.content }),
    m.status === 'blocked' ? safetyNotice(`Your message was blocked by the safety policy${m.category ? ` (category: ${m.category})` : ''}.`, m.category) : null,
    m.status === 'blocked' ? appealBlock(m, appealUi) : null);
}

// Thumb icons (Material Icons, Apache-2.0) as inline SVG: emoji fonts are not everywhere.
const THUMB_UP = 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z';
const THUMB_DOWN = 'M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z';
function icon(d) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

function safetyNotice(text, category) {
  return el('p', { class: 'safety-notice', 'data-category': category ?? '' }, el('span', { 'aria-hidden': 'true', text: '⚠ ' }), text);
}

function answerItem(userMessage, answers) {
  const shownId = state.selected.get(userMessage.id) ?? answers.at(-1).id;
  const index = Math.max(0, answers.findIndex((a) => a.id === shownId));
  const a = answers[index];
  const live = a.status === 'streaming' || a.status === 'pending';
  const ended = !live;

  const siblings = answers.length > 1 ? el('div', { class: 'siblings', role: 'group', 'aria-label': 'Answers to this message' },
    el('button', { type: 'button', class: 'quiet', 'aria-label': 'Previous answer', disabled: index === 0, 'data-action': 'prev', onclick: () => showSibling(userMessage.id, answers, index - 1) }, '‹'),
    el('span', { class: 'sibling-count', text: `${index + 1}/${answers.length}` }),
    el('button', { type: 'button', class: 'quiet', 'aria-label': 'Next answer', disabled: index === answers.length - 1, 'data-action': 'next', onclick: () => showSibling(userMessage.id, answers, index + 1) }, '›'),
  ) : null;

  const rated = a.feedback?.rating ?? null;
  const rateable = a.status === 'completed';
  // A blocked message is not sent to the model again: its answer is the refusal.
  const regenerable = userMessage.status !== 'blocked';
  const actions = ended && (regenerable || rateable) ? el('div', { class: 'answer-actions' },
    regenerable && el('button', { type: 'button', class: 'quiet', 'data-action': 'regenerate', onclick: () => regenerate(userMessage, a) }, '↻ Regenerate'),
    rateable && el('button', { type: 'button', class: 'quiet rate', 'aria-label': 'Good answer', title: 'Good answer', 'aria-pressed': String(rated === 'UP'), 'data-action': 'up', onclick: () => openFeedback(a, 'UP') }, icon(THUMB_UP)),
    rateable && el('button', { type: 'button', class: 'quiet rate', 'aria-label': 'Bad answer', title: 'Bad answer', 'aria-pressed': String(rated === 'DOWN'), 'data-action': 'down', onclick: () => openFeedback(a, 'DOWN') }, icon(THUMB_DOWN)),
  ) : null;

  const form = a.feedbackDraft ? feedbackForm(a) : null;
  const note = a.feedback && !a.feedbackDraft ? el('p', { class: 'feedback-note' },
    `You rated this answer ${a.feedback.rating === 'UP' ? 'good' : 'bad'}`, a.feedback.comment ? `: “${a.feedback.comment}”` : '.') : null;

  return el('li', { class: `msg assistant${live ? ' live' : ''}`, 'data-message-id': a.id, 'data-answers-to': userMessage.id, 'aria-busy': live ? 'true' : 'false' },
    el('div', { class: 'msg-meta' }, el('span', { class: 'who', text: 'Parley' }), siblings),
    toolSteps(a),
    el('div', { class: 'content', text: visibleText(a) }),
    ended ? citationList(a) : null,
    el('p', { class: 'answer-status', text: answerStatus(a) }),
    answerNotice(a),
    actions, form, note);
}

function answerStatus(a) {
  if (a.status === 'pending' || a.status === 'streaming') {
    if (a.connection === 'reconnecting') return 'Connection lost; reconnecting…';
    return a.content ? '' : 'Thinking…';
  }
  if (a.status === 'cancelled') return 'Stopped.';
  if (a.finishReason === 'length') return 'Stopped at the length limit.';
  return '';
}

function answerNotice(a) {
  if (a.status === 'blocked' || a.finishReason === 'content_filter') {
    const category = a.category ? ` (category: ${a.category})` : '';
    // A blocked message gets a refusal as its answer; a filtered answer keeps what passed before the cut.
    const question = state.conv?.messages.find((m) => m.id === a.replyTo);
    if (question?.status === 'blocked') return null; // the notice sits on the message itself
    const notice = question?.status === 'completed' && a.content
      ? safetyNotice(`The rest of this answer was withheld by the safety filter${category}.`, a.category)
      : safetyNotice(`Blocked by the safety policy${category}.`, a.category);
    return el('div', { class: 'safety' }, notice, appealBlock(a, appealUi));
  }
  if (a.status === 'failed') return el('p', { class: 'error-notice', role: 'note', text: `The answer failed${a.error ? `: ${a.error.replace(/\.$/, '')}` : ''}. You can regenerate it.` });
  return null;
}

function feedbackForm(a) {
  const id = `feedback-${a.id}`;
  return el('form', { class: 'feedback-form', 'aria-label': 'Feedback on this answer', onsubmit: (e) => { e.preventDefault(); sendFeedback(a, e.target.elements.comment.value); } },
    el('label', { for: id, text: `Why is it ${a.feedbackDraft === 'UP' ? 'good' : 'bad'}? (optional)` }),
    el('input', { id, name: 'comment', maxlength: 2000, autocomplete: 'off', 'data-action': 'comment', value: a.feedback?.rating === a.feedbackDraft ? a.feedback?.comment ?? '' : '',
      onkeydown: (e) => { if (e.key === 'Escape') { a.feedbackDraft = null; rerenderAnswer(a, 'up'); } } }),
    el('button', { type: 'submit', class: 'primary', 'data-action': 'send-feedback' }, 'Send feedback'),
    el('button', { type: 'button', 'data-action': 'cancel-feedback', onclick: () => { a.feedbackDraft = null; rerenderAnswer(a, a.feedback?.rating === 'DOWN' ? 'down' : 'up'); } }, 'Cancel'));
}

// Replaces one answer's list item, keeping the focus on the same control when it still exists.
function rerenderAnswer(a, focusAction = null) {
  const userMessage = state.conv?.messages.find((m) => m.id === a.replyTo);
  const old = document.querySelector(`#messages li[data-answers-to="${CSS.escape(a.replyTo ?? '')}"]`);
  if (!userMessage || !old) return;
  const focused = old.contains(document.activeElement) ? document.activeElement.getAttribute('data-action') : null;
  const fresh = answerItem(userMessage, groupAnswers().get(userMessage.id));
  old.replaceWith(fresh);
  const target = focusAction ?? focused;
  if (target) {
    const control = fresh.querySelector(`[data-action="${target}"]:not([disabled])`);
    (control ?? fresh.querySelector('[data-action]:not([disabled])'))?.focus();
  }
}

// The fast path while tokens arrive: only the text changes.
function updateAnswerText(a) {
  const item = document.querySelector(`#messages li[data-message-id="${CSS.escape(a.id)}"]`);
  if (!item) return;
  const stick = nearBottom();
  item.querySelector('.content').textContent = visibleText(a);
  const steps = toolSteps(a);
  const shown = item.querySelector('.tool-steps');
  if (steps && shown) { steps.open = shown.open; shown.replaceWith(steps); } else if (steps) item.querySelector('.content').before(steps);
  item.querySelector('.answer-status').textContent = answerStatus(a);
  if (stick) scrollToBottom();
}

function nearBottom() {
  const box = $('#messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToBottom(force = false) {
  const box = $('#messages');
  if (force || nearBottom()) box.scrollTop = box.scrollHeight;
}

function showSibling(userMessageId, answers, index) {
  const a = answers[index];
  if (!a) return;
  state.selected.set(userMessageId, a.id);
  rerenderAnswer(a, index === 0 ? 'next' : index === answers.length - 1 ? 'prev' : null);
  announce(`Answer ${index + 1} of ${answers.length}`);
}

// ---------------------------------------------------------------- streaming

function watch(answer, { replay = false } = {}) {
  if (state.streams.has(answer.id)) return;
  const controller = new AbortController();
  state.streams.set(answer.id, controller);
  let shownStatus = answer.status;
  followGeneration({
    id: answer.id,
    subscribe: api.subscribe,
    signal: controller.signal,
    replaceShownText: replay,
    onUpdate: (s) => {
      answer.content = s.text;
      answer.liveToolCalls = s.toolCalls;
      answer.connection = s.connection;
      if (s.done) {
        answer.status = { stop: 'completed', length: 'completed', content_filter: 'blocked', cancelled: 'cancelled' }[s.finishReason] ?? 'failed';
        answer.finishReason = s.finishReason;
        answer.category = s.category ?? answer.category;
        answer.error = s.error;
        answer.usage = s.usage;
      } else if (answer.status === 'pending' && s.text) {
        answer.status = 'streaming';
      }
      if (answer.status !== shownStatus) {
        shownStatus = answer.status;
        if (state.conv?.messages.includes(answer)) rerenderAnswer(answer);
      } else {
        updateAnswerText(answer);
      }
    },
  }).then((s) => {
    if (controller.signal.aborted) return;
    state.streams.delete(answer.id);
    updateComposer();
    if (!state.conv?.messages.includes(answer)) return;
    rerenderAnswer(answer);
    if (s.finishReason === 'content_filter') {
      announce(`Blocked by the safety policy${s.category ? `, category ${s.category}` : ''}.`);
      refreshQuestion(answer);
    }
    else if (s.finishReason === 'cancelled') announce('Stopped.');
    else if (hasCitationMarker(s.text)) { announce('Answer complete.'); refreshCitations(answer); }
    else if (s.finishReason === 'error') announce('The answer failed.');
    else announce('Answer complete.');
    if (s.errorCode === 'UNAUTHENTICATED') signOut('Your session has expired. Sign in again.');
  });
  updateComposer();
}

// A finished answer that cites [n]: its citations, once the history has the finished answer (and its
// continuations, when it called tools).
async function refreshCitations(answer) {
  const conv = state.conv;
  for (let tries = 0; tries < 10 && state.conv === conv; tries++) {
    const data = await api.request(Q.conversation, { id: conv.id }).catch(() => null);
    const fresh = data?.conversation?.messages ?? [];
    const steps = [fresh.find((m) => m.id === answer.id)];
    for (let next = fresh.find((m) => m.continues === answer.id); next; next = fresh.find((m) => m.continues === steps.at(-1).id)) steps.push(next);
    if (steps[0] && steps.at(-1).status === 'completed' && steps.some((m) => m.citations?.length)) {
      if (state.conv !== conv) return;
      // The live answer has no folded turn: the citations of all its steps go on it.
      answer.citations = steps.flatMap((m) => m.citations ?? []);
      rerenderAnswer(answer);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

// After a safety stop: was it the message (input check) or the answer (output filter)? The history
// knows once it has caught up, which may take a moment after the stream ended.
async function refreshQuestion(answer) {
  const conv = state.conv;
  for (let tries = 0; tries < 10 && state.conv === conv; tries++) {
    const data = await api.request(Q.conversation, { id: conv.id }).catch(() => null);
    const fresh = data?.conversation?.messages.find((m) => m.id === answer.replyTo);
    if (fresh && fresh.status !== 'pending') {
      const question = conv.messages.find((m) => m.id === answer.replyTo);
      if (!question || state.conv !== conv) return;
      Object.assign(question, normalizeMessage(fresh));
      const freshAnswer = data.conversation.messages.find((m) => m.id === answer.id);
      if (freshAnswer) Object.assign(answer, { safetyEventId: freshAnswer.safetyEventId, safetyCategory: freshAnswer.safetyCategory, policyVersion: freshAnswer.policyVersion, appeal: freshAnswer.appeal });
      if (question.status === 'blocked' && !answer.category) answer.category = question.category;
      document.querySelector(`#messages li[data-message-id="${CSS.escape(question.id)}"]`)?.replaceWith(userItem(question));
      rerenderAnswer(answer);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function stopWatching() {
  for (const controller of state.streams.values()) controller.abort();
  state.streams.clear();
}

function liveAnswers() {
  return (state.conv?.messages ?? []).filter((m) => m.role === 'assistant' && state.streams.has(m.id));
}

function updateComposer() {
  const busy = liveAnswers().length > 0;
  const limited = Date.now() < state.rateLimitedUntil;
  $('#send').disabled = busy || state.sending || limited;
  $('#send').hidden = busy;
  $('#stop').hidden = !busy;
}

// ---------------------------------------------------------------- actions

async function send() {
  const input = $('#composer-input');
  const content = input.value.trim();
  if (!content) return;
  if (liveAnswers().length) return announce('Wait for the answer to finish, or press Stop.');
  if (Date.now() < state.rateLimitedUntil) return showRateLimit();
  const params = {};
  const temperature = $('#temperature').value;
  const maxTokens = $('#max-tokens').value;
  if (temperature !== '') params.temperature = Number(temperature);
  if (maxTokens !== '') params.maxTokens = Number(maxTokens);
  const payload = { content, params };
  if (state.conv) payload.conversationId = state.conv.id;
  else if ($('#system-prompt').value.trim()) payload.systemPrompt = $('#system-prompt').value.trim();
  // Answer from documents: collections named here go with this turn (and stay with the conversation).
  const collections = $('#collections').value.split(',').map((c) => c.trim()).filter(Boolean);
  if (collections.length) payload.retrieval = { collections };

  state.sending = true;
  updateComposer();
  try {
    const { sendMessage: r } = await api.request(Q.send, { input: payload });
    input.value = '';
    hideNotice();
    if (!state.conv || state.conv.id !== r.conversation.id) {
      stopWatching();
      state.conv = { ...r.conversation, messages: [] };
      state.selected.clear();
      history.pushState(null, '', `#c=${encodeURIComponent(r.conversation.id)}`);
    }
    state.conv.title = r.conversation.title;
    const message = normalizeMessage(r.message);
    const answer = placeholderAnswer(r.generation.id, message.id, null);
    state.conv.messages.push(message, answer);
    state.selected.set(message.id, answer.id);
    render();
    upsertListItem(r.conversation);
    watch(answer);
  } catch (error) {
    handleError(error);
  } finally {
    state.sending = false;
    updateComposer();
  }
}

async function stop() {
  const live = liveAnswers();
  await Promise.all(live.map((a) => api.request(Q.cancel, { id: a.id }).catch((error) => {
    // Already finished: the stream reports how it ended.
    if (error.code !== 'CONFLICT' && error.code !== 'BAD_USER_INPUT') handleError(error);
  })));
  $('#composer-input').focus();
}

async function regenerate(userMessage, from) {
  try {
    const { regenerate: r } = await api.request(Q.regenerate, { id: from.id });
    const answers = groupAnswers().get(userMessage.id) ?? [];
    const answer = placeholderAnswer(r.generation.id, userMessage.id, answers[0]?.siblingOf ?? answers[0]?.id ?? from.id);
    state.conv.messages.push(answer);
    state.selected.set(userMessage.id, answer.id);
    rerenderAnswer(answer);
    announce(`Regenerating: answer ${answers.length + 1} of ${answers.length + 1}.`);
    watch(answer);
  } catch (error) {
    handleError(error);
  }
}

function openFeedback(a, rating) {
  a.feedbackDraft = rating;
  rerenderAnswer(a, 'comment');
}

async function sendFeedback(a, comment) {
  const rating = a.feedbackDraft;
  try {
    await api.request(Q.feedback, { input: { generationId: a.id, rating, comment: comment.trim() || null } });
    a.feedback = { rating, comment: comment.trim() || null };
    a.feedbackDraft = null;
    rerenderAnswer(a, rating === 'UP' ? 'up' : 'down');
    announce('Thanks for the feedback.');
  } catch (error) {
    handleError(error);
  }
}

function startRename() {
  if (!state.conv) return;
  $('#conversation-title').hidden = true;
  $('#rename').hidden = true;
  $('#delete').hidden = true;
  $('#rename-form').hidden = false;
  const input = /** @type {HTMLInputElement} */ ($('#rename-input'));
  input.value = state.conv.title;
  input.focus();
  input.select();
}

function endRename() {
  $('#rename-form').hidden = true;
  $('#conversation-title').hidden = false;
  $('#rename').hidden = !state.conv;
  $('#delete').hidden = !state.conv;
  $('#rename').focus();
}

async function saveRename() {
  const title = /** @type {HTMLInputElement} */ ($('#rename-input')).value.trim();
  if (!title || !state.conv) return;
  try {
    const { renameConversation: r } = await api.request(Q.rename, { id: state.conv.id, title });
    state.conv.title = r.conversation.title;
    $('#conversation-title').textContent = r.conversation.title;
    document.title = `${r.conversation.title} · Parley`;
    upsertListItem(r.conversation);
    endRename();
    announce('Renamed.');
  } catch (error) {
    handleError(error);
  }
}

async function confirmDelete() {
  if (!state.conv) return;
  const dialog = /** @type {HTMLDialogElement} */ ($('#delete-dialog'));
  $('#delete-dialog-text').textContent = `“${state.conv.title}” disappears from your history.`;
  dialog.returnValue = '';
  dialog.showModal();
  const choice = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
  if (choice !== 'delete') return $('#delete').focus();
  const { id, title } = state.conv;
  try {
    await api.request(Q.remove, { id });
    state.list.items = state.list.items.filter((c) => c.id !== id);
    newConversation();
    showNotice(`Deleted “${title}”.`, 'info');
  } catch (error) {
    handleError(error);
  }
}

// ---------------------------------------------------------------- notices and errors

function handleError(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return showNotice(`Something went wrong: ${error?.message ?? error}`);
  }
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return signOut('Your session has expired or the token is no longer valid. Sign in again.');
    case 'RATE_LIMITED': {
      const seconds = Math.max(1, Math.ceil(Number(error.extensions.retryAfter) || 10));
      state.rateLimitedUntil = Date.now() + seconds * 1000;
      updateComposer();
      return showRateLimit();
    }
    default:
      if (error.extensions?.category) return showNotice(`Your message was blocked by the safety policy (category: ${error.extensions.category}).`);
      return showNotice(error.message);
  }
}

let rateTimer = null;
function showRateLimit() {
  clearInterval(rateTimer);
  const tick = () => {
    const left = Math.ceil((state.rateLimitedUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(rateTimer);
      updateComposer();
      showNotice('You can send again now.', 'info');
      return;
    }
    $('#notice-text').textContent = `You are sending too fast. You can send again in ${left} s.`;
  };
  showNotice('', 'warning');
  tick();
  rateTimer = setInterval(tick, 1000);
}

function showNotice(text, kind = 'error') {
  const notice = $('#notice');
  notice.dataset.kind = kind;
  $('#notice-text').textContent = text;
  notice.hidden = false;
}

function hideNotice() {
  $('#notice').hidden = true;
}

function announce(text) {
  const status = $('#status');
  status.textContent = '';
  requestAnimationFrame(() => { status.textContent = text; });
}

// ---------------------------------------------------------------- narrow screens

function closeSidebarOnNarrow() {
  $('#sidebar').classList.remove('open');
  $('#toggle-sidebar').setAttribute('aria-expanded', 'false');
}

// ---------------------------------------------------------------- wiring

function wireStaticHandlers() {
  $('#dev-login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = /** @type {HTMLInputElement} */ ($('#dev-name')).value.trim();
    const res = await fetch('/auth/dev-login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) }).catch(() => null);
    const body = await res?.json().catch(() => null);
    if (!res?.ok || !body?.token) {
      $('#signin-error').textContent = body?.error?.message ?? 'Dev sign-in failed; is the server running?';
      return;
    }
    if ((await signInWith(body.token)) === true) $('#composer-input').focus();
  });
  $('#token-login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = /** @type {HTMLTextAreaElement} */ ($('#token-input')).value.trim().replace(/^Bearer\s+/i, '');
    if ((await signInWith(token)) === true) $('#composer-input').focus();
  });
  $('#signout').addEventListener('click', () => signOut());

  $('#composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
  $('#composer-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  $('#stop').addEventListener('click', stop);

  $('#new-conversation').addEventListener('click', () => { hideNotice(); newConversation(); });
  let searchTimer = null;
  $('#search').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.list.search = e.target.value.trim(); loadList({ reset: true }); }, 250);
  });
  $('#load-more').addEventListener('click', () => loadList());

  $('#rename').addEventListener('click', startRename);
  $('#rename-form').addEventListener('submit', (e) => { e.preventDefault(); saveRename(); });
  $('#rename-cancel').addEventListener('click', endRename);
  $('#rename-input').addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); endRename(); } });
  $('#delete').addEventListener('click', confirmDelete);
  $('#notice-close').addEventListener('click', () => { hideNotice(); $('#composer-input').focus(); });

  $('#toggle-sidebar').addEventListener('click', () => {
    const open = $('#sidebar').classList.toggle('open');
    $('#toggle-sidebar').setAttribute('aria-expanded', String(open));
    if (open) $('#search').focus();
  });
  $('#sidebar').addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !$('#sidebar').classList.contains('open')) return;
    closeSidebarOnNarrow();
    $('#toggle-sidebar').focus();
  });
  // Following a #c= link and Back/Forward both fire popstate.
  window.addEventListener('popstate', () => { if (state.me) route(); });
}

start();
