// The compliance console: the audit log (filters, paging, CSV/JSONL download), the appeal queue
// (uphold / overturn with a note) and charts, for the compliance and admin roles. GraphQL only,
// plus GET /v1/audit/export for downloads. A user token sees none of it (the API answers FORBIDDEN).
import { createClient } from './api.js';
import { barChart } from './charts.js';
import { el } from './dom.js';

const TOKEN_KEY = 'parley.token';
// ?pageSize= (1–100) for a shorter page.
const PAGE = Math.min(100, Math.max(1, Number(new URLSearchParams(location.search).get('pageSize')) || 25));
const ENTRY = 'eventId eventType userId tenantId actorId stage verdict categories { category blocked } policyVersion outcome occurredAt';
const Q = {
  me: `query { me { userId tenantId roles } }`,
  audit: `query Audit($f: AuditFilter, $first: Int, $after: String) { auditLog(filter: $f, first: $first, after: $after) {
    edges { node { ${ENTRY} } } pageInfo { hasNextPage endCursor } } }`,
  appeals: `query Appeals($status: String, $pos: String) { appeals(status: $status, first: 100, consistentWith: $pos) { edges { node {
    id safetyEventId userId tenantId reason status note resolvedBy filedAt resolvedAt decision { verdict policyVersion categories { category blocked } } } } } }`,
  resolve: `mutation Resolve($id: ID!, $outcome: AppealOutcome!, $note: String) { resolveAppeal(appealId: $id, outcome: $outcome, note: $note) { appealId position } }`,
  stats: `query { complianceStats {
    decisionsPerCategoryPerDay { day category flagged blocked }
    blockRatePerTenant { tenantId decisions blocked rate }
    tokensPerDayPerTenant { day tenantId promptTokens completionTokens }
    thumbsUpRatePerDay { day up down rate } } }`,
};

const state = { token: localStorage.getItem(TOKEN_KEY), filter: {}, cursors: [null], page: 0, hasNext: false };
const api = createClient({ getToken: () => state.token });
const $ = (s) => /** @type {HTMLElement} */ (document.querySelector(s));
const announce = (text) => { $('#console-live').textContent = text; };

async function start() {
  $('#console-token').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = e.target.elements.token.value.trim();
    localStorage.setItem(TOKEN_KEY, state.token);
    start();
  });
  if (!state.token) return showTokenForm();
  let me;
  try {
    me = (await api.request(Q.me)).me;
  } catch {
    return showTokenForm('That token was not accepted.');
  }
  $('#console-who').textContent = `Signed in as ${me.userId} (${me.tenantId}; ${me.roles.join(', ')})`;
  if (!me.roles.includes('compliance') && !me.roles.includes('admin')) return deny('This console is for the compliance and admin roles.');
  $('#console-token').hidden = true;
  $('#console-main').hidden = false;
  wire();
  await Promise.all([me.roles.includes('compliance') ? loadAudit() : auditUnavailable(), loadAppeals(), loadCharts()]);
}

function showTokenForm(problem = '') {
  $('#console-token').hidden = false;
  if (problem) deny(problem);
}

function deny(text) {
  $('#console-main').hidden = true;
  const p = $('#console-denied');
  p.textContent = text;
  p.hidden = false;
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  $('#audit-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    state.filter = filterFrom(new FormData(e.target));
    state.cursors = [null];
    state.page = 0;
    loadAudit();
  });
  $('#audit-older').addEventListener('click', () => { state.page++; loadAudit(); });
  $('#audit-newer').addEventListener('click', () => { state.page = Math.max(0, state.page - 1); loadAudit(); });
  $('#audit-csv').addEventListener('click', () => download('csv'));
  $('#audit-jsonl').addEventListener('click', () => download('jsonl'));
  $('#appeal-status').addEventListener('change', () => loadAppeals());
}

function filterFrom(form) {
  const f = {};
  for (const [k, v] of form.entries()) if (String(v).trim()) f[k] = String(v).trim();
  // Days are UTC days: `from` starts at its midnight, `to` (exclusive in the filter) at the next one.
  if (f.from) f.from = `${f.from}T00:00:00Z`;
  if (f.to) f.to = new Date(Date.parse(`${f.to}T00:00:00Z`) + 86_400_000).toISOString();
  return f;
}

// ---------------------------------------------------------------- audit

async function loadAudit() {
  const after = state.cursors[state.page] ?? null;
  let data;
  try {
    data = (await api.request(Q.audit, { f: state.filter, first: PAGE, after })).auditLog;
  } catch (error) {
    $('#audit-summary').textContent = `Could not load the audit log: ${error.message}`;
    return;
  }
  state.cursors[state.page + 1] = data.pageInfo.endCursor;
  state.hasNext = data.pageInfo.hasNextPage;
  const rows = data.edges.map(({ node: n }) => el('tr', { 'data-event-id': n.eventId },
    el('td', { text: n.occurredAt.replace('T', ' ').slice(0, 19) }), el('td', { text: n.eventType }), el('td', { text: n.userId }),
    el('td', { text: n.tenantId }), el('td', { text: n.actorId }), el('td', { text: n.stage ?? '' }), el('td', { text: n.verdict ?? '', 'data-verdict': n.verdict ?? '' }),
    el('td', { text: n.categories.filter((c) => c.blocked).map((c) => c.category).join(', ') }), el('td', { text: n.policyVersion ?? '' }), el('td', { text: n.outcome ?? '' })));
  $('#audit-table tbody').replaceChildren(...rows);
  $('#audit-summary').textContent = rows.length ? `Page ${state.page + 1}: ${rows.length} entries` : 'No entries match these filters.';
  /** @type {HTMLButtonElement} */ ($('#audit-older')).disabled = !state.hasNext;
  /** @type {HTMLButtonElement} */ ($('#audit-newer')).disabled = state.page === 0;
  announce($('#audit-summary').textContent);
}

function auditUnavailable() {
  $('#audit-summary').textContent = 'The audit log needs the compliance role.';
  for (const id of ['#audit-csv', '#audit-jsonl']) /** @type {HTMLButtonElement} */ ($(id)).disabled = true;
}

// The export of everything the filters match (not just this page), as a file.
async function download(format) {
  const params = new URLSearchParams({ format, ...state.filter });
  const res = await fetch(`/v1/audit/export?${params}`, { headers: { authorization: `Bearer ${state.token}` } });
  if (!res.ok) return announce(`The export failed (HTTP ${res.status}).`);
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: `audit.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------- appeals

async function loadAppeals(pos = null) {
  const status = /** @type {HTMLSelectElement} */ ($('#appeal-status')).value || null;
  let edges = [];
  try {
    edges = (await api.request(Q.appeals, { status, pos })).appeals.edges;
  } catch (error) {
    $('#appeal-empty').textContent = `Could not load appeals: ${error.message}`;
    $('#appeal-empty').hidden = false;
    return;
  }
  $('#appeal-list').replaceChildren(...edges.map(({ node }) => appealItem(node)));
  $('#appeal-empty').textContent = 'No appeals here.';
  $('#appeal-empty').hidden = edges.length > 0;
}

function appealItem(a) {
  const category = a.decision?.categories.filter((c) => c.blocked).map((c) => c.category).join(', ') || 'none';
  const noteId = `note-${a.id}`;
  const resolve = async (outcome) => {
    const note = /** @type {HTMLInputElement} */ (document.getElementById(noteId)).value;
    try {
      const { resolveAppeal } = await api.request(Q.resolve, { id: a.id, outcome, note });
      announce(`Appeal ${outcome}.`);
      await loadAppeals(resolveAppeal.position);
      if (!$('#console-main').hidden) loadAudit();
    } catch (error) {
      announce(`Could not resolve the appeal: ${error.message}`);
    }
  };
  return el('li', { class: 'appeal', 'data-appeal-id': a.id, 'data-status': a.status },
    el('p', { class: 'appeal-head' }, el('strong', { text: a.userId }), ` (${a.tenantId}) · ${a.filedAt.replace('T', ' ').slice(0, 19)} · category: ${category} · `, el('span', { class: 'appeal-state', text: a.status })),
    el('blockquote', { text: a.reason }),
    a.status === 'open'
      ? el('div', { class: 'appeal-actions' },
        el('label', { for: noteId, text: 'Note' }), el('input', { id: noteId, maxlength: 2000, autocomplete: 'off' }),
        el('button', { type: 'button', 'data-action': 'uphold', onclick: () => resolve('upheld') }, 'Uphold'),
        el('button', { type: 'button', class: 'primary', 'data-action': 'overturn', onclick: () => resolve('overturned') }, 'Overturn'))
      : el('p', { class: 'appeal-note', text: `Resolved by ${a.resolvedBy ?? '?'}${a.note ? `: “${a.note}”` : ''}` }));
}

// ---------------------------------------------------------------- charts

async function loadCharts() {
  let s;
  try {
    s = (await api.request(Q.stats)).complianceStats;
  } catch (error) {
    $('#charts').textContent = `Could not load the charts: ${error.message}`;
    return;
  }
  const days = (rows) => [...new Set(rows.map((r) => r.day))].sort();
  const byDay = (rows, key, pick) => {
    const labels = days(rows);
    const names = [...new Set(rows.map((r) => r[key]))].sort();
    return { labels, series: names.map((name) => ({ name, values: labels.map((d) => rows.filter((r) => r.day === d && r[key] === name).reduce((n, r) => n + pick(r), 0)) })) };
  };
  const perCategory = byDay(s.decisionsPerCategoryPerDay, 'category', (r) => r.flagged);
  const tokens = byDay(s.tokensPerDayPerTenant, 'tenantId', (r) => r.promptTokens + r.completionTokens);
  const thumbs = s.thumbsUpRatePerDay;
  $('#charts').replaceChildren(
    barChart({ id: 'decisions-per-category', title: 'Safety decisions per category per day (flagged or blocked)', ...perCategory }),
    barChart({ id: 'block-rate', title: 'Block rate per tenant', labels: s.blockRatePerTenant.map((r) => r.tenantId), series: [{ name: 'blocked %', values: s.blockRatePerTenant.map((r) => r.rate * 100) }], unit: '%', max: 100 }),
    barChart({ id: 'tokens-per-day', title: 'Tokens per day per tenant', ...tokens }),
    barChart({ id: 'thumbs-up-rate', title: 'Thumbs-up rate per day', labels: thumbs.map((r) => r.day), series: [{ name: 'thumbs up %', values: thumbs.map((r) => r.rate * 100) }], unit: '%', max: 100 }),
  );
}

start();
