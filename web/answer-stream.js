// Following answers as they stream (stream.js does the resumable subscription): each update
// applied to its answer and drawn, the end announced, and after it the citations or the safety
// verdict fetched once the history has caught up. Also the composer's Send/Stop state, which
// depends on whether an answer is live.
import { followGeneration } from './stream.js';
import { hasCitationMarker } from './citations.js';
import { $, Q, api, normalizeMessage, state } from './chat-state.js';
import { rerenderAnswer, updateAnswerText, userItem } from './chat-render.js';
import { announce } from './notices.js';
import { signOut } from './sign-in.js';

// ---------------------------------------------------------------- streaming

export function watch(answer, { replay = false } = {}) {
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

export function stopWatching() {
  for (const controller of state.streams.values()) controller.abort();
  state.streams.clear();
}

export function liveAnswers() {
  return (state.conv?.messages ?? []).filter((m) => m.role === 'assistant' && state.streams.has(m.id));
}

export function updateComposer() {
  const busy = liveAnswers().length > 0;
  const limited = Date.now() < state.rateLimitedUntil;
  $('#send').disabled = busy || state.sending || limited;
  $('#send').hidden = busy;
  $('#stop').hidden = !busy;
}
