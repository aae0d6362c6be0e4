// The conversation list (search, paging) and which conversation is open: routing on #c=<id>,
// opening one (with its answers still streaming followed again), starting a new one.
import { el } from './dom.js';
import { $, PAGE_SIZE, Q, api, groupAnswers, normalizeMessage, placeholderAnswer, state } from './chat-state.js';
import { appeals, render } from './chat-render.js';
import { stopWatching, watch } from './answer-stream.js';
import { handleError, hideNotice, showNotice } from './notices.js';

// ---------------------------------------------------------------- conversation list

export async function loadList({ reset = false, pos = null } = {}) {
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

export function renderList() {
  const { items, hasNext, search } = state.list;
  $('#conversation-list').replaceChildren(...items.map((c) => el('li', {},
    el('a', { href: `#c=${encodeURIComponent(c.id)}`, 'aria-current': c.id === state.conv?.id ? 'page' : false, text: c.title || 'Untitled' }))));
  const empty = $('#list-empty');
  empty.hidden = items.length > 0;
  empty.textContent = search ? `No conversation matches “${search}”.` : 'No conversations yet.';
  $('#load-more').hidden = !hasNext;
}

export function upsertListItem(conversation) {
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

export async function route() {
  const id = routeId();
  if (!id) return newConversation({ focus: false });
  if (id === state.conv?.id) return;
  await openConversation(id);
}

export function newConversation({ focus = true } = {}) {
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
export async function openConversation(id, { pos = null } = {}) {
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

// ---------------------------------------------------------------- narrow screens

export function closeSidebarOnNarrow() {
  $('#sidebar').classList.remove('open');
  $('#toggle-sidebar').setAttribute('aria-expanded', 'false');
}
