// flux2-mock dashboard: polls the control API once a second and renders what it says.
// Plain JS, no dependencies. It reads only /_mock/ endpoints and result image URLs.
"use strict";

const TOKEN_KEY = "flux2-mock-admin-token";
const POLL_MS = 1000;
const SLOW_POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) || "";
let selected = null;          // taskId shown in the detail panel
let apiKeys = [];
let lastSlowPoll = 0;
let busy = false;
const rows = new Map();       // taskId -> <tr>
const deliveriesOf = new Map();  // taskId -> its callback deliveries, as last read
const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_POINTS = 60;      // one a poll: the last minute
const rateHistory = [];       // [{at: ms, counts: Map(series -> total)}]

// A token in the URL fragment (#token=...) never reaches the server's logs.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) { token = fromHash; sessionStorage.setItem(TOKEN_KEY, token); }

class HttpError extends Error {
  constructor(status, body) {
    super((body && body.data && body.data.error) || (body && body.message) || `HTTP ${status}`);
    this.status = status;
  }
}

async function call(method, path, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {method, headers,
    body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await response.json().catch(() => null);
  // With error_status = 200 an error comes as HTTP 200 with its status in the envelope's code.
  const status = data && typeof data.code === "number" && data.message ? data.code : response.status;
  if (status === 401) $("token-form").hidden = false;
  if (!response.ok || status >= 400) throw new HttpError(status, data);
  return data;
}

function say(text, isError) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value; else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const time = (ms) => (ms == null ? "—" : new Date(ms).toLocaleTimeString());
const secs = (ms) => (ms == null ? "—" : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`);

// -- tasks -----------------------------------------------------------------------------

function taskRow(task) {
  const row = el("tr", {"data-task-id": task.taskId});
  row.append(el("td", {class: "id"}), el("td", {class: "state-cell"}), el("td", {class: "timeline"}),
             el("td"), el("td"), el("td", {class: "outcome"}), el("td", {class: "result"}), el("td"));
  const force = row.cells[7];
  for (const [action, label] of [["success", "complete"], ["failed", "fail"], ["stuck", "stuck"]]) {
    force.append(el("button", {type: "button", "data-action": action, text: label}), " ");
  }
  return row;
}

function setText(cell, text) { if (cell.textContent !== text) cell.textContent = text; }

function updateRow(row, task, now) {
  const [id, state, bar, created, timings, outcome, result, force] = row.cells;
  setText(id, `${task.taskId}\n${task.apiKey}`);
  const badge = state.firstChild || state.appendChild(el("span"));
  badge.className = `state state-${task.state}`;
  setText(badge, task.state);
  row.dataset.state = task.state;
  bar.replaceChildren(timelineBar(task, now, deliveriesOf.get(task.taskId)));
  setText(created, time(task.createTime));
  const parts = [`pending ${secs(task.startTime - task.createTime)}`];
  parts.push(task.completeTime == null ? "processing: never ends"
    : `processing ${secs(task.completeTime - task.startTime)}`);
  if (task.costTime != null) parts.push(`cost ${secs(task.costTime)}`);
  else if (task.completeTime != null) parts.push(`ends in ${secs(task.completeTime - now)}`);
  setText(timings, parts.join(" · "));
  setText(outcome, task.state === "failed" ? `${task.failCode}: ${task.failMsg}`
    : task.outcome === "stuck" ? "stuck" : task.state === "success" ? "success"
      : `will ${task.outcome === "failed" ? "fail" : "succeed"}`);
  const url = task.resultUrls[0];
  if (url && !result.querySelector("img")) {
    result.append(el("a", {href: url, target: "_blank"},
      el("img", {class: "thumb", src: url, alt: `result of ${task.taskId}`, loading: "lazy"})));
  }
  const ended = task.state === "success" || task.state === "failed";
  for (const button of force.querySelectorAll("button")) button.disabled = ended;
  row.classList.toggle("selected", task.taskId === selected);
}

function renderTasks(page) {
  const body = $("tasks").tBodies[0];
  const seen = new Set();
  page.tasks.forEach((task, index) => {
    seen.add(task.taskId);
    let row = rows.get(task.taskId);
    if (!row) { row = taskRow(task); rows.set(task.taskId, row); }
    if (body.rows[index] !== row) body.insertBefore(row, body.rows[index] || null);
    updateRow(row, task, page.now);
  });
  for (const [taskId, row] of rows) {
    if (!seen.has(taskId)) { row.remove(); rows.delete(taskId); }
  }
  setText($("task-count"), `(${page.tasks.length} newest)`);
}

// A task's life as a bar: pending, processing, then its outcome, on a scale from its
// createTime to now (or its last callback attempt); the part still to come is faded.
// Each callback attempt is a tick: green when the receiver answered 200, red otherwise.
function timelineBar(task, now, deliveries) {
  const attempts = (deliveries || []).flatMap((d) => d.attempts);
  const start = task.createTime;
  const complete = task.completeTime;
  let end = Math.max(now, complete == null ? now : complete, ...attempts.map((a) => a.time));
  end += Math.max(end - start, 1) * 0.12;  // room to see the outcome
  const x = (ms) => Math.max(0, Math.min(100, ((ms - start) / (end - start)) * 100));
  const segments = [["pending", start, task.startTime],
    ["processing", task.startTime, complete == null ? end : complete]];
  if (complete != null) segments.push([task.outcome, complete, end]);
  const bar = svg("svg", {class: "lifebar", viewBox: "0 0 100 18", preserveAspectRatio: "none",
    "data-segments": segments.map((s) => s[0]).join(","), "data-attempts": String(attempts.length)});
  for (const [state, from, to] of segments) {
    const left = x(from);
    const width = Math.max(x(to) - left, 0.8);
    const future = from > now;
    bar.append(svg("rect", {class: `segment ${state}${future ? " future" : ""}`, x: left, y: 3,
      width, height: 12}, svg("title", {}, `${state} from ${time(from)}`)));
    if (from <= now && to > now) {  // the part after now is still to come
      bar.append(svg("rect", {class: "future-mask", x: x(now), y: 3, width: Math.max(x(to) - x(now), 0),
        height: 12, fill: "#fff", "fill-opacity": "0.55"}));
    }
  }
  for (const a of attempts) {
    bar.append(svg("rect", {class: `attempt ${a.status === 200 ? "delivered" : "rejected"}`,
      x: x(a.time) - 1.2, y: 0, width: 2.4, height: 18},
    svg("title", {}, attemptText(a))));
  }
  bar.append(svg("line", {class: "now", x1: x(now), x2: x(now), y1: 0, y2: 18}));
  return bar;
}

// -- requests per second -----------------------------------------------------------------

// API requests answered, from the Prometheus text: "POST /api/v1/generateTask/<model> → 200".
function requestCounts(text) {
  const counts = new Map();
  const line = /^flux2_mock_requests_total\{route="([^"]*)",method="([^"]*)",status="(\d+)"\} (\S+)$/;
  for (const row of text.split("\n")) {
    const m = row.match(line);
    if (!m || m[1].startsWith("/_mock")) continue;  // the dashboard's own polling is not traffic
    const name = `${m[2]} ${m[1]} → ${m[3]}`;
    counts.set(name, (counts.get(name) || 0) + Number(m[4]));
  }
  return counts;
}

const PALETTE = {2: ["#1f8a4c", "#2867c5", "#138496", "#5b8c2a"], 4: ["#a67c00", "#d35400", "#b8860b"],
                 5: ["#c0392b", "#8e44ad", "#e84393"]};

function colourOf(name, index) {
  const status = (name.match(/→ (\d)/) || [])[1];
  const list = PALETTE[status] || ["#6b7385"];
  return list[index % list.length];
}

async function renderRates() {
  const response = await fetch("/_mock/metrics", {headers: token ? {Authorization: `Bearer ${token}`} : {}});
  if (!response.ok) return;
  rateHistory.push({at: Date.now(), counts: requestCounts(await response.text())});
  if (rateHistory.length > CHART_POINTS + 1) rateHistory.shift();
  const names = [...new Set(rateHistory.flatMap((h) => [...h.counts.keys()]))].sort();
  const rates = new Map(names.map((n) => [n, []]));
  for (let i = 1; i < rateHistory.length; i++) {
    const [before, after] = [rateHistory[i - 1], rateHistory[i]];
    const seconds = Math.max((after.at - before.at) / 1000, 0.001);
    for (const n of names) {
      rates.get(n).push(Math.max(0, ((after.counts.get(n) || 0) - (before.counts.get(n) || 0)) / seconds));
    }
  }
  const top = Math.max(1, ...[...rates.values()].flat());
  const chart = $("rate-chart");
  const parts = [svg("line", {class: "axis", x1: 0, x2: 600, y1: 119, y2: 119}),
    svg("text", {class: "scale", x: 3, y: 10}, `${top.toFixed(top < 10 ? 1 : 0)}/s`)];
  const legend = [];
  const active = names.filter((n) => rates.get(n).some((r) => r > 0));
  active.forEach((name, index) => {
    const series = rates.get(name);
    // A young chart spreads what it has; from a minute on it scrolls.
    const span = Math.max(series.length, 10);
    const offset = span - series.length;
    const points = series.map((r, i) => `${((offset + i) / (span - 1)) * 600},${118 - (r / top) * 105}`);
    const colour = colourOf(name, index);
    parts.push(svg("polyline", {points: points.join(" "), stroke: colour, "data-series": name}));
    const swatch = el("span", {class: "swatch"});
    swatch.style.background = colour;
    legend.push(el("li", {"data-series": name}, swatch,
      `${name}: ${series[series.length - 1].toFixed(1)}/s`));
  });
  chart.replaceChildren(...parts);
  if (legend.length) $("rate-legend").replaceChildren(...legend);
  else fillList($("rate-legend"), [], (x) => x, "no API requests in the last minute");
}

// -- detail, callbacks, conformance ----------------------------------------------------

function attemptText(a) {
  const answer = a.status != null ? `HTTP ${a.status}` : `no answer: ${a.error}`;
  return `attempt ${a.attempt} at ${time(a.time)} → ${answer} (${a.latencyMs} ms)`;
}

// One line per delivery, then one per attempt: "delivery 1 (completion) delivered".
function deliveryLines(deliveries, prefix) {
  const lines = [];
  for (const d of deliveries || []) {
    const due = d.dueTime ? `, next try ${time(d.dueTime)}` : "";
    lines.push(`${prefix}delivery ${d.delivery} (${d.reason}) ${d.state}${due}`);
    for (const a of d.attempts) lines.push(`${prefix}  ${attemptText(a)}`);
  }
  return lines;
}

function fillList(list, items, render, empty) {
  list.replaceChildren(...(items && items.length ? items.map((i) => el("li", {text: render(i)}))
    : [el("li", {class: "muted", text: empty})]));
}

async function renderDetail() {
  if (!selected) return;
  let task;
  try { task = await call("GET", `/_mock/tasks/${encodeURIComponent(selected)}`); }
  catch (error) { if (error.status === 404) { selected = null; $("detail-body").hidden = true; } return; }
  $("detail-empty").hidden = true;
  $("detail-body").hidden = false;
  setText($("detail-id"), `${task.taskId} (${task.state})`);
  if (task.callbacks) deliveriesOf.set(task.taskId, task.callbacks);
  $("timeline").replaceChildren(...task.timeline.map((step) => el("li",
    {class: step.reached ? "reached" : "future",
     text: `${step.state}: ${step.at == null ? "never" : time(step.at)}${step.reached ? "" : " (not yet)"}`})));
  fillList($("detail-requests"), task.requests,
    (r) => `${time(r.time)} ${r.method} ${r.path} → ${r.status}${r.state ? " " + r.state : ""}`,
    task.requests === null ? "no request journal on this server" : "none");
  fillList($("detail-callbacks"), task.callbacks && deliveryLines(task.callbacks, ""), (l) => l,
    task.callbacks === null ? "no callback sender on this server"
      : task.callbackUrl ? "none yet" : "not a callback task");
}

async function renderCallbacks(tasks) {
  const withCallbacks = tasks.filter((t) => t.callbackUrl).slice(0, 10);
  const lines = [];
  for (const task of withCallbacks) {
    let full;
    try { full = await call("GET", `/_mock/tasks/${encodeURIComponent(task.taskId)}`); }
    catch (error) { if (error.status === 404) continue; throw error; }  // reset meanwhile
    deliveriesOf.set(task.taskId, full.callbacks || []);
    const mine = deliveryLines(full.callbacks, `${task.taskId} `);
    lines.push(...(mine.length ? mine : [`${task.taskId} → ${task.callbackUrl}: not due yet`]));
  }
  fillList($("callback-list"), lines, (line) => line, "none yet");
}

async function renderConformance() {
  const blocks = [];
  for (const key of apiKeys) {
    let report;
    try { report = await call("GET", `/_mock/conformance?apiKeyId=${encodeURIComponent(key)}`); }
    catch (error) { blocks.push(el("p", {class: "muted", text: `conformance unavailable (${error.message})`})); break; }
    const head = el("h3", {text: `${report.apiKey || key}: ${report.conformant ? "conformant" : "not conformant"}` +
      ` — ${report.errors} errors, ${report.warnings} warnings, ${report.requests} requests`});
    const findings = report.findings.map((f) => el("div", {class: "finding",
      text: `${f.severity} ${f.rule}: ${f.message}${f.count > 1 ? ` (×${f.count})` : ""}`}));
    blocks.push(el("div", {class: "key-report", "data-key": key}, head, ...findings));
  }
  $("conformance-list").replaceChildren(...blocks);
}

function showProfiles(settings) {
  // "custom" (fixed timings from the command line) is shown but cannot be chosen.
  const names = settings.profiles.includes(settings.profile) ? settings.profiles
    : [...settings.profiles, settings.profile];
  $("profile").replaceChildren(...names.map((name) => el("option",
    {value: name, text: name, ...(settings.profiles.includes(name) ? {} : {disabled: ""})})));
  $("profile").value = settings.profile;
}

// -- polling ----------------------------------------------------------------------------

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const [health, clock, page, queue] = await Promise.all([
      call("GET", "/_mock/health"), call("GET", "/_mock/clock"),
      call("GET", "/_mock/tasks?order=desc&limit=50"), call("GET", "/_mock/scenario-queue")]);
    setText($("health"), `v${health.version} · profile ${health.profile} · ${health.store} store`);
    setText($("clock"), `clock ${time(clock.now)}${clock.offsetMs ? ` (+${secs(clock.offsetMs)})` : ""}`);
    setText($("queue"), queue.queue.map((q) => `${q.scenario} ×${q.remaining}`).join(", "));
    renderTasks(page);
    await renderDetail();
    await renderCallbacks(page.tasks);
    renderTasks(page);  // again: the bars now carry the callback attempts just read
    await renderRates();
    if (Date.now() - lastSlowPoll > SLOW_POLL_MS) {
      lastSlowPoll = Date.now();
      const settings = await call("GET", "/_mock/settings");
      apiKeys = settings.apiKeyIds;
      if (document.activeElement !== $("profile")) showProfiles(settings);
      if (document.activeElement !== $("failure-rate")) $("failure-rate").value = settings.failure_rate;
      await renderConformance();
    }
    setText($("poll-status"), `updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    setText($("poll-status"), `update failed: ${error.message}`);
  } finally {
    busy = false;
  }
}

async function act(promise, done) {
  try { await promise; say(done, false); lastSlowPoll = 0; await refresh(); }
  catch (error) { say(error.message, true); }
}

$("tasks").tBodies[0].addEventListener("click", (event) => {
  const row = event.target.closest("tr");
  if (!row) return;
  const taskId = row.dataset.taskId;
  const action = event.target.dataset && event.target.dataset.action;
  if (action) {
    const body = {outcome: action};
    if (action === "failed" && $("fail-code").value.trim()) body.failCode = $("fail-code").value.trim();
    act(call("POST", `/_mock/tasks/${encodeURIComponent(taskId)}/force`, body), `${taskId}: forced ${action}`);
  } else {
    selected = taskId;
    refresh();
  }
});

$("reset-all").addEventListener("click", () => {
  if (!confirm("Forget every task, callback, the journal and the queue, start rate limits and balances over, and return the clock to real time?")) return;
  selected = null;
  $("detail-body").hidden = true;
  act(call("POST", "/_mock/reset"), "everything reset");
});

for (const button of document.querySelectorAll("[data-advance]")) {
  button.addEventListener("click", () => act(call("POST", "/_mock/clock/advance",
    {seconds: Number(button.dataset.advance)}), `clock advanced ${button.dataset.advance} s`));
}

$("settings-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(call("PATCH", "/_mock/settings", {profile: $("profile").value,
    failure_rate: Number($("failure-rate").value)}), "settings applied");
});

$("queue-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(call("POST", "/_mock/scenario-queue", {scenario: $("queue-scenario").value,
    count: Number($("queue-count").value)}), "scenario queued");
});

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token-form").hidden = true;
  lastSlowPoll = 0;
  refresh();
});

refresh();
setInterval(refresh, POLL_MS);
