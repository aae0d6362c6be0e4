// Signing in and out of the chat page: the sign-in panel (dev sign-in when the server offers it,
// or a pasted token), keeping the token in localStorage, and what a sign-out clears.
import { $, Q, TOKEN_KEY, api, state } from './chat-state.js';
import { loadList, route } from './conversations.js';
import { stopWatching } from './answer-stream.js';
import { clearMemories } from './memory.js';

export async function showSignIn(message = '') {
  $('#app').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message;
  const dev = await fetch('/auth/dev-login', { headers: { accept: 'application/json' } }).then((r) => r.ok).catch(() => false);
  $('#dev-login').hidden = !dev;
  (dev ? $('#dev-name') : $('#token-input')).focus();
}

export async function signInWith(token, { quiet = false } = {}) {
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

export function signOut(message = '') {
  stopWatching();
  state.token = null;
  state.me = null;
  state.conv = null;
  localStorage.removeItem(TOKEN_KEY);
  history.replaceState(null, '', location.pathname);
  // What the signed-out user typed or was shown must not carry over to whoever signs in next on this
  // page: their facts, and the composer's draft and options (collections would make the next user's
  // message use retrieval without their asking), and the list's search.
  clearMemories();
  /** @type {HTMLFormElement} */ ($('#composer')).reset();
  /** @type {HTMLInputElement} */ ($('#search')).value = '';
  state.list.search = '';
  showSignIn(message);
}
