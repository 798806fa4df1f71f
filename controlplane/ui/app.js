// SPDX-License-Identifier: MIT
// sluice web UI: plain JS, no build step. Talks to the admin API on the same origin with the
// token of POST /api/auth/login (kept in sessionStorage: gone when the tab closes).
'use strict';

const POLL_MS = 1500;
const POINTS = 80; // two minutes of history at POLL_MS
const TOKEN_KEY = 'sluice.token';
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY);
let timer = null;
let prev = null; // the last /api/stats sample: {t, total, err5xx, errors, buckets: Map}
let charts = null;
let backendsApi = true; // false once GET /api/backends answered 404 (older server)
let busy = false;

class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.error)) || 'HTTP ' + status);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401 && path !== '/api/auth/login') {
    logout((data && data.detail) || 'The session ended: log in again.');
    throw new ApiError(r.status, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function say(msg, isError) {
  const s = $('status');
  s.textContent = msg;
  s.className = isError ? 'error' : '';
}

// ---------------------------------------------------------------- login

function showLogin(msg) {
  $('dash-view').hidden = true;
  $('login-view').hidden = false;
  $('logout').hidden = true;
  $('whoami').textContent = '';
  $('login-error').textContent = msg || '';
  $('username').focus();
}

function logout(msg) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (timer) clearInterval(timer);
  timer = null;
  prev = null;
  showLogin(msg);
}

async function login(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    const r = await api('POST', '/api/auth/login',
      { username: $('username').value, password: $('password').value });
    if (r.scope && r.scope !== 'api') {
      $('login-error').textContent = 'The password has expired: change it with ' +
        '"sluicectl passwd" (POST /api/auth/password), then log in again.';
      return;
    }
    token = r.token;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('password').value = '';
    start();
  } catch (e) {
    $('login-error').textContent = 'Login refused: ' + e.message;
  }
}

async function start() {
  $('login-view').hidden = true;
  $('dash-view').hidden = false;
  $('logout').hidden = false;
  try {
    const me = await api('GET', '/api/auth/whoami');
    $('whoami').textContent = 'Logged in as ' + (me.user || me.sub || me.username || '?');
  } catch (e) {
    if (e.status === 401) return;
  }
  initCharts();
  await tick();
  timer = setInterval(tick, POLL_MS);
}

// ---------------------------------------------------------------- charts

function lineChart(id, series) {
  return new window.Chart($(id), {
    type: 'line',
    data: {
      labels: [],
      datasets: series.map(([label, color]) => ({
        label, data: [], borderColor: color, backgroundColor: color,
        borderWidth: 2, pointRadius: 0, tension: 0.2, spanGaps: false,
      })),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { beginAtZero: true }, x: { ticks: { maxTicksLimit: 6 } } },
      plugins: { legend: { display: series.length > 1 } },
    },
  });
}

function initCharts() {
  if (charts) return;
  if (typeof window.Chart !== 'function') {
    $('chart-missing').hidden = false;
    charts = {};
    return;
  }
  charts = {
    rate: lineChart('c-rate', [['requests/s', '#0550ae']]),
    err: lineChart('c-err', [['5xx/s', '#cf222e'], ['failed/s', '#9a6700']]),
    lat: lineChart('c-lat', [['p50', '#1a7f37'], ['p95', '#9a6700'], ['p99', '#cf222e']]),
  };
}

function push(chart, label, values) {
  if (!chart) return;
  chart.data.labels.push(label);
  chart.data.datasets.forEach((d, i) => d.data.push(values[i]));
  if (chart.data.labels.length > POINTS) {
    chart.data.labels.shift();
    chart.data.datasets.forEach((d) => d.data.shift());
  }
  chart.update('none');
}

// ---------------------------------------------------------------- stats

function sumValues(o) {
  return Object.values(o || {}).reduce((a, b) => a + b, 0);
}

// The q-quantile (ms) of the requests between two samples of the merged histogram, or null.
function quantile(buckets, prevBuckets, q) {
  const d = [];
  let total = 0;
  for (const [upper, n] of buckets) {
    const k = n - (prevBuckets.get(upper) || 0);
    if (k > 0) { d.push([upper, k]); total += k; }
  }
  if (total === 0) return null;
  d.sort((a, b) => a[0] - b[0]);
  const want = q * total;
  let acc = 0;
  for (const [upper, k] of d) {
    acc += k;
    if (acc >= want) return upper / 1e6;
  }
  return d[d.length - 1][0] / 1e6;
}

function fmtMs(v) {
  if (v === null || v === undefined) return '–';
  return v < 10 ? v.toFixed(2) + ' ms' : v < 1000 ? v.toFixed(0) + ' ms' : (v / 1000).toFixed(2) + ' s';
}

function onStats(s) {
  const now = Date.now();
  const http = s.http || { requests: {}, errors: {} };
  const cur = {
    t: now,
    total: sumValues(http.requests),
    err5xx: (http.requests || {})['5xx'] || 0,
    errors: sumValues(http.errors),
    buckets: new Map(((s.latency || {}).buckets || []).map(([u, n]) => [u, n])),
  };
  const label = new Date(now).toLocaleTimeString();
  if (prev) {
    const dt = (cur.t - prev.t) / 1000;
    const rate = Math.max(0, cur.total - prev.total) / dt;
    const e5 = Math.max(0, cur.err5xx - prev.err5xx) / dt;
    const ef = Math.max(0, cur.errors - prev.errors) / dt;
    const p = [0.5, 0.95, 0.99].map((q) => quantile(cur.buckets, prev.buckets, q));
    $('t-rate').textContent = rate.toFixed(1);
    $('t-err').textContent = rate > 0 ? (100 * e5 / rate).toFixed(2) + ' %' : '0 %';
    $('t-p50').textContent = fmtMs(p[0]);
    $('t-p95').textContent = fmtMs(p[1]);
    $('t-p99').textContent = fmtMs(p[2]);
    push(charts.rate, label, [rate]);
    push(charts.err, label, [e5, ef]);
    push(charts.lat, label, p);
  }
  prev = cur;
  const ws = s.workers || [];
  $('t-workers').textContent = ws.filter((w) => w.status === 'ok').length + ' / ' + ws.length;
}

// ---------------------------------------------------------------- backends

// Rows from GET /api/backends, or, without that API, from the backend rows of /api/stats.
function rowsFromStats(s) {
  return (s.requests || []).filter((r) => r.backend).map((r) => ({
    id: null, service: r.service, location: r.location, url: r.backend,
    weight: r.weight, state: r.draining ? 'draining' : r.up === false ? 'down' : 'up',
    health: r.up === undefined ? 'unknown' : r.up ? 'up' : 'down',
    circuit: r.circuit || 'closed', ejected: r.ejected, health_reason: r.health_reason,
    inflight: r.in_flight, open_connections: r.open_conns,
    pool_idle: r.idle_conns, requests: sumValues(r.requests), draining: !!r.draining,
    enabled: true,
  }));
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '–' : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function button(label, aria, fn, secondary) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('aria-label', aria);
  if (secondary) b.className = 'secondary';
  b.addEventListener('click', fn);
  return b;
}

async function act(what, fn) {
  busy = true;
  try {
    await fn();
    say(what + ': done');
  } catch (e) {
    say(what + ' failed: ' + e.message, true);
  } finally {
    busy = false;
    refresh();
  }
}

function patch(b, body, what) {
  return act(what + ' ' + b.url, () => api('PATCH', '/api/backends/' + b.id, body));
}

function renderBackends(rows) {
  const tbody = $('backends').tBodies[0];
  const active = document.activeElement;
  // Do not rebuild while an action runs or under a weight being typed.
  if (busy || (active && active.tagName === 'INPUT' && active.closest('#backends'))) return;
  const refocus = active && active.closest('#backends') ? active.getAttribute('aria-label') : null;
  tbody.replaceChildren();
  let up = 0;
  for (const b of rows) {
    const tr = document.createElement('tr');
    tr.dataset.backendId = b.id === null ? '' : b.id;
    tr.dataset.url = b.url;
    tr.dataset.state = b.state;
    cell(tr, b.service);
    cell(tr, b.location);
    // Backends added or changed through the API are runtime overrides (API_BACKENDS.md).
    cell(tr, b.source === 'runtime' ? b.url + ' (runtime)' : b.url);
    cell(tr, b.state, 'state state-' + b.state);
    // Why the health last changed (GET /api/backends' health_reason) as the cell's tooltip.
    const htd = cell(tr, b.health);
    if (b.health_reason) htd.title = b.health_reason;
    cell(tr, b.circuit, 'state state-circuit-' + b.circuit);
    cell(tr, b.ejected === undefined ? undefined : b.ejected ? 'yes' : 'no',
      b.ejected ? 'state state-ejected' : '');
    // The share of its weight while slow start ramps after a return; '–' at full weight.
    cell(tr, b.slow_start_percent !== undefined && b.slow_start_percent < 100
      ? b.slow_start_percent + '%' : undefined, 'num');
    cell(tr, b.inflight, 'num');
    cell(tr, b.open_connections, 'num');
    cell(tr, b.pool_idle, 'num');
    cell(tr, b.requests, 'num');
    if (b.health === 'up') up++;
    const wtd = cell(tr, '');
    const actions = cell(tr, '');
    if (b.id === null) {
      wtd.textContent = String(b.weight);
      actions.textContent = 'read only';
    } else {
      const w = document.createElement('input');
      w.type = 'number';
      w.min = '1';
      w.value = String(b.weight);
      w.className = 'w';
      w.setAttribute('aria-label', 'Weight of ' + b.url + ' in ' + b.location);
      wtd.replaceChildren(w, button('Set', 'Set the weight of ' + b.url, () => {
        const n = Number(w.value);
        if (!Number.isInteger(n) || n < 1) { say('The weight must be an integer >= 1', true); return; }
        patch(b, { weight: n }, 'Weight ' + n + ' for');
      }, true));
      if (b.draining || b.enabled === false)
        actions.appendChild(button('Enable', 'Enable ' + b.url + ' in ' + b.location,
          () => patch(b, { drain: false, enabled: true }, 'Enable')));
      else
        actions.appendChild(button('Drain', 'Drain ' + b.url + ' in ' + b.location,
          () => patch(b, { drain: true }, 'Drain')));
    }
    tbody.appendChild(tr);
  }
  if (refocus) { // keep the keyboard where it was (a Drain button becomes Enable: its row)
    const same = [...tbody.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === refocus);
    if (same) same.focus();
  }
  $('t-up').textContent = up + ' / ' + rows.length;
}

// ---------------------------------------------------------------- add form

let services = null; // [{name, locations: [path]}]

function fillServices(list) {
  const key = JSON.stringify(list);
  if (services && JSON.stringify(services) === key) return;
  services = list;
  const sel = $('add-service');
  const keep = sel.value;
  sel.replaceChildren(...list.map((s) => new Option(s.name, s.name)));
  if (keep) sel.value = keep;
  fillLocations();
}

function fillLocations() {
  const s = (services || []).find((x) => x.name === $('add-service').value);
  const sel = $('add-location');
  const keep = sel.value;
  sel.replaceChildren(...(s ? s.locations : []).map((p) => new Option(p, p)));
  if (keep) sel.value = keep;
}

function servicesFromRows(rows) {
  const m = new Map();
  for (const r of rows) {
    if (!m.has(r.service)) m.set(r.service, []);
    if (!m.get(r.service).includes(r.location)) m.get(r.service).push(r.location);
  }
  return [...m].map(([name, locations]) => ({ name, locations }));
}

async function addBackend(ev) {
  ev.preventDefault();
  const q = '?service_name=' + encodeURIComponent($('add-service').value) +
    '&location=' + encodeURIComponent($('add-location').value);
  const body = {
    url: $('add-url').value.trim(),
    weight: Number($('add-weight').value),
    max_connections: Number($('add-maxconn').value),
  };
  await act('Add ' + body.url, () => api('POST', '/api/backends' + q, body));
}

// ---------------------------------------------------------------- the poll

async function refresh() {
  if (!token) return;
  let stats;
  try {
    stats = await api('GET', '/api/stats');
  } catch (e) {
    if (e.status !== 401) say('Cannot read /api/stats: ' + e.message, true);
    return;
  }
  let rows = null;
  if (backendsApi) {
    try {
      rows = (await api('GET', '/api/backends')).backends;
    } catch (e) {
      if (e.status === 404) {
        backendsApi = false;
      } else {
        if (e.status !== 401) say('Cannot read /api/backends: ' + e.message, true);
        return;
      }
    }
  }
  if (!backendsApi) {
    rows = rowsFromStats(stats);
    const note = $('backends-note');
    note.hidden = false;
    note.textContent = 'This server has no backends API (GET /api/backends answered 404): ' +
      'the table is read only.';
    $('add-form').querySelector('button').disabled = true;
  }
  renderBackends(rows);
  if (backendsApi) {
    try {
      const sv = await api('GET', '/api/services');
      fillServices(sv.services.map((s) => ({ name: s.name, locations: s.locations.map((l) => l.path) })));
    } catch (e) {
      fillServices(servicesFromRows(rows));
    }
  } else {
    fillServices(servicesFromRows(rows));
  }
  return stats;
}

let ticking = false;

async function tick() {
  if (ticking) return; // a slow answer: skip a beat rather than pile up requests
  ticking = true;
  try {
    const s = await refresh();
    if (s) onStats(s);
  } finally {
    ticking = false;
  }
}

// ---------------------------------------------------------------- start

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', () => logout('Logged out.'));
$('add-form').addEventListener('submit', addBackend);
$('add-service').addEventListener('change', fillLocations);
if (token) start(); else showLogin();
