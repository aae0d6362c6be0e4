// Parley's reference chat page: plain DOM, the public GraphQL API only (see api.js and stream.js).
// This entry module wires the page's static controls and signs in. The parts, each an ES module:
// chat-state.js (state, client, queries, message model), sign-in.js, conversations.js (list and
// routing), chat-render.js (drawing), answer-stream.js (live answers), chat-actions.js (send,
// stop, regenerate, feedback, rename, delete), notices.js (errors, rate limit, announcements).
// They import each other in a cycle, which ES modules allow: no module calls into another while
// it is being evaluated, only later, from handlers.
import { $, TOKEN_KEY, state } from './chat-state.js';
import { showSignIn, signInWith, signOut } from './sign-in.js';
import { closeSidebarOnNarrow, loadList, newConversation, route } from './conversations.js';
import { confirmDelete, endRename, saveRename, send, startRename, stop } from './chat-actions.js';
import { hideNotice } from './notices.js';

// ---------------------------------------------------------------- start

async function start() {
  wireStaticHandlers();
  const saved = state.token;
  if (!saved) return showSignIn();
  const problem = await signInWith(saved, { quiet: true });
  if (problem !== true) showSignIn(problem.code === 'UNAUTHENTICATED' ? 'Your session has expired. Sign in again.' : problem.message);
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
  // Tabbing out of the open panel would put the focus on the controls it covers: close it then.
  $('#sidebar').addEventListener('focusout', (e) => {
    const to = /** @type {Node | null} */ (e.relatedTarget);
    if (!to || $('#sidebar').contains(to) || to === $('#toggle-sidebar')) return;
    closeSidebarOnNarrow();
  });
  // Following a #c= link and Back/Forward both fire popstate.
  window.addEventListener('popstate', () => { if (state.me) route(); });
  // Another tab signed out, or signed in as someone else (they share localStorage): this page
  // follows, instead of going on as the user it showed.
  window.addEventListener('storage', (e) => {
    if ((e.key !== TOKEN_KEY && e.key !== null) || !state.me) return;
    const token = localStorage.getItem(TOKEN_KEY);
    if (token === state.token) return;
    if (!token) signOut('You signed out in another tab.');
    else location.reload();
  });
}

start();
