// What the user does to a conversation: send a message, stop or regenerate an answer, rate it,
// rename or delete the conversation. Each calls one mutation and updates the state and the page.
import { $, Q, api, groupAnswers, normalizeMessage, placeholderAnswer, state } from './chat-state.js';
import { render, rerenderAnswer } from './chat-render.js';
import { newConversation, upsertListItem } from './conversations.js';
import { liveAnswers, stopWatching, updateComposer, watch } from './answer-stream.js';
import { announce, handleError, hideNotice, showNotice, showRateLimit } from './notices.js';

// ---------------------------------------------------------------- actions

export async function send() {
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

export async function stop() {
  const live = liveAnswers();
  await Promise.all(live.map((a) => api.request(Q.cancel, { id: a.id }).catch((error) => {
    // Already finished: the stream reports how it ended.
    if (error.code !== 'CONFLICT' && error.code !== 'BAD_USER_INPUT') handleError(error);
  })));
  $('#composer-input').focus();
}

export async function regenerate(userMessage, from) {
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

export function openFeedback(a, rating) {
  a.feedbackDraft = rating;
  rerenderAnswer(a, 'comment');
}

export async function sendFeedback(a, comment) {
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

export function startRename() {
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

export function endRename() {
  $('#rename-form').hidden = true;
  $('#conversation-title').hidden = false;
  $('#rename').hidden = !state.conv;
  $('#delete').hidden = !state.conv;
  $('#rename').focus();
}

export async function saveRename() {
  const title = /** @type {HTMLInputElement} */ ($('#rename-input')).value.trim();
  if (!state.conv) return;
  // Only spaces pass the field's `required`: say why nothing is saved (the server says the same).
  if (!title) return showNotice('A title cannot be empty.');
  try {
    const { renameConversation: r } = await api.request(Q.rename, { id: state.conv.id, title });
    state.conv.title = r.conversation.title;
    $('#conversation-title').textContent = r.conversation.title;
    document.title = `${r.conversation.title} · Parley`;
    upsertListItem(r.conversation);
    hideNotice();
    endRename();
    announce('Renamed.');
  } catch (error) {
    handleError(error);
  }
}

export async function confirmDelete() {
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
