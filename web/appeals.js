// Appeals from the chat page: "Appeal this decision" on a blocked message or a filtered answer, a
// reason, then the appeal's status (open, upheld, overturned), refreshed while one is open.
import { el } from './dom.js';

export const APPEAL_FIELDS = 'safetyEventId safetyCategory policyVersion appeal { id status note filedAt resolvedAt }';
const FILE = `mutation FileAppeal($id: ID!, $reason: String!) { fileAppeal(safetyEventId: $id, reason: $reason) { appealId position } }`;
const STATUS = `query AppealStatus($id: ID!) { conversation(id: $id) { id messages { id ${APPEAL_FIELDS} } } }`;
const POLL_MS = 4000;

const STATUS_TEXT = {
  open: 'Appeal filed: a reviewer will look at this decision.',
  upheld: 'Appeal reviewed: the decision stands.',
  overturned: 'Appeal reviewed: the decision was overturned.',
};

/**
 * The appeal controls of one message `m` (a user message or an answer with a safety decision).
 * `ui`: { api, rerender(m, focusAction), announce(text), onError(error), filed() }.
 */
export function appealBlock(m, ui) {
  if (m.appeal) {
    // Focusable from script: filing replaces the form (and the focus in it) with this status.
    return el('p', { class: 'appeal-status', 'data-status': m.appeal.status, tabindex: -1, 'data-action': 'appeal-status' },
      STATUS_TEXT[m.appeal.status] ?? `Appeal ${m.appeal.status}.`, m.appeal.note ? ` Note: “${m.appeal.note}”` : '');
  }
  if (!m.safetyEventId) return null;
  if (typeof m.appealDraft !== 'string') {
    return el('button', { type: 'button', class: 'quiet', 'data-action': 'appeal', onclick: () => { m.appealDraft = ''; ui.rerender(m, 'appeal-reason'); } }, 'Appeal this decision');
  }
  const id = `appeal-${m.id}`;
  const submit = async (e) => {
    e.preventDefault();
    const reason = e.target.elements.reason.value.trim();
    if (!reason) return;
    try {
      const data = await ui.api.request(FILE, { id: m.safetyEventId, reason });
      m.appeal = { id: data.fileAppeal.appealId, status: 'open', note: null, filedAt: new Date().toISOString(), resolvedAt: null };
      m.appealDraft = null;
      ui.rerender(m, 'appeal-status');
      ui.announce('Appeal filed.');
      ui.filed();
    } catch (error) {
      ui.onError(error);
    }
  };
  return el('form', { class: 'appeal-form', 'aria-label': 'Appeal this decision', onsubmit: submit },
    el('label', { for: id, text: 'Why should this decision be reviewed?' }),
    el('textarea', { id, name: 'reason', rows: 2, maxlength: 2000, required: true, 'data-action': 'appeal-reason', text: m.appealDraft,
      oninput: (e) => { m.appealDraft = e.target.value; },
      onkeydown: (e) => { if (e.key === 'Escape') { m.appealDraft = null; ui.rerender(m, 'appeal'); } } }),
    el('button', { type: 'submit', class: 'primary', 'data-action': 'send-appeal' }, 'File appeal'),
    el('button', { type: 'button', 'data-action': 'cancel-appeal', onclick: () => { m.appealDraft = null; ui.rerender(m, 'appeal'); } }, 'Cancel'));
}

/**
 * While the open conversation has an open appeal, asks for its status every few seconds and reports
 * each message whose appeal changed. `conversation()` is the conversation shown now.
 */
export function createAppealPoller({ api, conversation, changed, intervalMs = POLL_MS }) {
  let timer = null;
  const hasOpen = () => (conversation()?.messages ?? []).some((m) => m.appeal?.status === 'open');
  async function tick() {
    timer = null;
    const conv = conversation();
    if (!conv || !hasOpen()) return;
    const data = await api.request(STATUS, { id: conv.id }).catch(() => null);
    if (conversation() === conv) {
      for (const fresh of data?.conversation?.messages ?? []) {
        const m = conv.messages.find((x) => x.id === fresh.id);
        if (m && fresh.appeal && m.appeal?.status !== fresh.appeal.status) {
          m.appeal = fresh.appeal;
          changed(m);
        }
      }
    }
    kick();
  }
  function kick() {
    if (!timer && hasOpen()) timer = setTimeout(tick, intervalMs);
  }
  return { kick };
}
