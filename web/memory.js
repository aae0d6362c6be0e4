// "What Parley remembers about you": the signed-in user's memories (GraphQL `memories`), each
// deletable (`forgetFact`), and a field to add one (`rememberFact`). Loaded when the section is
// opened, so the page's start costs nothing more.
import { el } from './dom.js';
// The page's own client, with the token of the user it shows: localStorage may hold someone else's
// by now (a sign-in in another tab), and their facts must not be listed or added to here.
import { api } from './chat-state.js';

const Q = {
  list: `query { memories { id text savedAt } }`,
  add: `mutation($t: String!) { rememberFact(text: $t) { memory { id text savedAt } } }`,
  forget: `mutation($id: ID!) { forgetFact(id: $id) { id deleted } }`,
};

const section = /** @type {HTMLDetailsElement} */ (document.getElementById('memories'));
const list = /** @type {HTMLUListElement} */ (document.getElementById('memory-list'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('memory-form'));
const input = /** @type {HTMLInputElement} */ (document.getElementById('memory-input'));
const status = /** @type {HTMLElement} */ (document.getElementById('memory-status'));

function render(memories) {
  list.replaceChildren(...memories.map((m) => el('li', { class: 'memory', 'data-id': m.id },
    el('span', { class: 'memory-text', text: m.text }),
    el('button', { type: 'button', class: 'quiet danger', 'aria-label': `Forget: ${m.text}`, text: 'Forget', onclick: () => forget(m) }),
  )));
  status.textContent = memories.length ? '' : 'Nothing yet. Facts you add here go into every conversation.';
}

async function load() {
  try {
    render((await api.request(Q.list)).memories);
  } catch (error) {
    status.textContent = error.message;
  }
}

async function forget(m) {
  try {
    await api.request(Q.forget, { id: m.id });
    const index = [...list.children].findIndex((li) => li.getAttribute('data-id') === m.id);
    await load();
    // The pressed button is gone with its fact: focus the next fact's Forget (or the last one, or the field).
    const buttons = list.querySelectorAll('button');
    (buttons[index] ?? buttons[buttons.length - 1] ?? input).focus();
  } catch (error) {
    status.textContent = error.message;
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  try {
    await api.request(Q.add, { t: text });
    input.value = '';
    await load();
  } catch (error) {
    status.textContent = error.message;
  }
});

// Sign-out (sign-in.js): the list is loaded only when the section is opened, so without this the
// next user to sign in on this page would see the previous user's facts, with Forget buttons.
export function clearMemories() {
  section.open = false;
  list.replaceChildren();
  status.textContent = '';
  input.value = '';
}

section.addEventListener('toggle', () => {
  if (section.open) void load();
});
