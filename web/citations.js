// Citations on the page: an answer grounded in documents (retrieval in the turn, or a search_documents
// result) cites its sources like [1]; Message.citations resolves each marker to the document's title
// and the passage. They are listed under the answer as buttons, each opening a popover with the
// passage (the native Popover API: no script to position or dismiss it). A removed document's
// citation says so. Citations come from history (Message.citations): after a live answer ends, the
// page asks for them once the history has the finished answer (only when its text holds a [n]).

import { el } from './dom.js';

export const CITATION_FIELDS = 'citations { index documentId chunkId title passage status }';

export const hasCitationMarker = (text) => /\[\d{1,3}(?:\s*,\s*\d{1,3})*\]/.test(text ?? '');

// A turn's citations: the answer's own and its continuations' (after a search_documents call).
export function citationsOf(answer) {
  const steps = answer.turn ?? [answer];
  const seen = new Set();
  return steps.flatMap((a) => a.citations ?? []).filter((c) => {
    const key = `${c.index}:${c.chunkId}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

// The list under an answer (null when it cites nothing).
export function citationList(answer) {
  const citations = citationsOf(answer);
  if (citations.length === 0) return null;
  const base = `cite-${answer.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return el('div', { class: 'citations', role: 'list', 'aria-label': 'Sources' }, ...citations.map((c) => {
    const id = `${base}-${c.index}`;
    const removed = c.status === 'REMOVED';
    const label = removed ? `[${c.index}] (document removed)` : `[${c.index}] ${c.title}`;
    return el('span', { role: 'listitem', class: `citation${removed ? ' removed' : ''}`, 'data-citation': String(c.index) },
      el('button', { type: 'button', class: 'citation-link', popovertarget: id, 'aria-label': `Source ${c.index}: ${removed ? 'document removed' : c.title}`, text: label }),
      el('div', { id, popover: 'auto', class: 'citation-popover', role: 'note' },
        el('strong', { text: removed ? 'This document was removed.' : c.title }),
        removed ? el('p', { text: 'Its passage is no longer available.' }) : el('blockquote', { class: 'citation-passage', text: c.passage ?? '' })));
  }));
}
