// Drawing the open conversation: messages, an answer with its siblings, tool steps, citations,
// safety notices and appeal controls, the answer actions and the feedback form; re-drawing one
// answer (keeping the focus) and the fast path that only updates its text while tokens arrive.
import { appealBlock, createAppealPoller } from './appeals.js';
import { el } from './dom.js';
import { toolSteps, visibleText } from './tool-calls.js';
import { citationList } from './citations.js';
import { $, api, groupAnswers, state } from './chat-state.js';
import { renderList } from './conversations.js';
import { updateComposer } from './answer-stream.js';
import { openFeedback, regenerate, sendFeedback } from './chat-actions.js';
import { announce, handleError } from './notices.js';

// Appeals (appeals.js): the controls under a safety notice, and the status refreshed while one is open.
export const appeals = createAppealPoller({
  api, conversation: () => state.conv,
  changed: (m) => { rerenderMessage(m); announce(`Your appeal was ${m.appeal.status === 'open' ? 'filed' : m.appeal.status}.`); },
});
const appealUi = { api, rerender: (m, focus) => rerenderMessage(m, focus), announce: (t) => announce(t), onError: (e) => handleError(e), filed: () => appeals.kick() };

export function rerenderMessage(m, focusAction = null) {
  if (m.role !== 'user') return rerenderAnswer(m, focusAction);
  const old = document.querySelector(`#messages li[data-message-id="${CSS.escape(m.id)}"]`);
  if (!old) return;
  const fresh = userItem(m);
  old.replaceWith(fresh);
  if (focusAction) fresh.querySelector(`[data-action="${focusAction}"]`)?.focus();
}

// ---------------------------------------------------------------- rendering

export function render() {
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

export function userItem(m) {
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
export function rerenderAnswer(a, focusAction = null) {
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
export function updateAnswerText(a) {
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
