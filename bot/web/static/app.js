// hedgebot dashboard: plain JS, no build step. Reads /api/ every few seconds and draws the
// hedged-vs-unhedged chart as inline SVG. Amounts arrive as exact decimal strings.
"use strict";

const params = new URLSearchParams(location.search);
const REFRESH_MS = 1000 * Number(params.get("refresh") || 5);
const SVG = "http://www.w3.org/2000/svg";
let rendered = 0;
let timer = null;

function token() { return sessionStorage.getItem("hedgebot-token") || ""; }

async function api(path) {
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const res = await fetch("/api/" + path, { headers });
  if (res.status === 401) { throw Object.assign(new Error("token needed"), { status: 401 }); }
  if (!res.ok) { throw new Error(path + ": HTTP " + res.status); }
  return res.json();
}

const num = (x) => (x === null || x === undefined || x === "" ? null : Number(x));
function pct(x) { const n = num(x); return n === null ? "–" : (n * 100).toFixed(2) + "%"; }
function money(x) { const n = num(x); return n === null ? "–" : n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
function fixed(x, d) { const n = num(x); return n === null ? "–" : n.toFixed(d); }
function raw(x) { return x === null || x === undefined ? "–" : String(x); }

const COLUMNS = [
  ["hedge", raw], ["symbol", raw], ["spot", raw], ["perp", raw], ["ratio", (x) => fixed(x, 3)],
  ["target", raw], ["deviation", pct], ["stop_trigger", raw], ["liquidation_distance", pct],
  ["funding_received", money], ["reason", raw], ["why_no_order", raw],
];

function cell(row, field, show) {
  const td = document.createElement("td");
  const value = row[field];
  td.dataset.field = field;
  td.dataset.value = value === null || value === undefined ? "" : String(value);
  td.textContent = show(value);
  if (field === "deviation" && num(value) !== null && Math.abs(num(value)) > 0.05) td.className = "off";
  return td;
}

function renderHedges(rows) {
  const body = document.querySelector("#hedges tbody");
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    tr.dataset.hedge = row.hedge;
    tr.append(...COLUMNS.map(([field, show]) => cell(row, field, show)));
    return tr;
  }));
}

function renderState(status) {
  const state = document.getElementById("state");
  state.dataset.state = status.trading_state;
  state.textContent = status.trading_state;
  document.getElementById("reason").textContent = status.reason || "";
  const flat = status.flattened || [];
  document.getElementById("flattened").textContent = flat.length ? "flattened: " + flat.join(", ") : "";
  const c = status.last_cycle;
  document.getElementById("cycle").textContent = c
    ? `cycle ${c.number} · ${c.outcome} · ${c.started_at.replace("T", " ").slice(0, 19)} UTC`
    : "no cycle yet";
  const account = status.account || {};
  for (const el of document.querySelectorAll("#account [data-field]")) {
    const v = account[el.dataset.field];
    el.dataset.value = v === null || v === undefined ? "" : String(v);
    el.textContent = /ratio|distance/.test(el.dataset.field) ? pct(v) : money(v);
  }
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function renderChart(points) {
  const chart = document.getElementById("chart");
  // the drawing is as wide as the box, so text keeps its size (the height is fixed)
  const W = Math.max(320, Math.round(chart.clientWidth || 800)), H = 260, L = 70, R = 10, T = 10, B = 24;
  chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const parts = [];
  chart.dataset.points = String(points.length);
  if (points.length === 0) {
    parts.push(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no cycles with account figures yet"));
    chart.replaceChildren(...parts);
    return;
  }
  const values = points.flatMap((p) => [Number(p.hedged), Number(p.unhedged)]);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi === lo) { hi += 1; lo -= 1; }
  const x = (i) => L + (points.length === 1 ? 0 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  for (const v of [lo, (lo + hi) / 2, hi]) {
    parts.push(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    parts.push(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, money(v)));
  }
  const first = points[0].time.slice(0, 16).replace("T", " ");
  const last = points[points.length - 1].time.slice(0, 16).replace("T", " ");
  parts.push(svg("text", { x: L, y: H - 6 }, first));
  parts.push(svg("text", { x: W - R, y: H - 6, "text-anchor": "end" }, last));
  for (const series of ["unhedged", "hedged"]) {
    const line = svg("polyline", {
      class: series,
      points: points.map((p, i) => `${x(i).toFixed(1)},${y(Number(p[series])).toFixed(1)}`).join(" "),
    });
    line.dataset.series = series;
    line.dataset.last = points[points.length - 1][series];
    parts.push(line);
  }
  chart.dataset.lo = String(lo);
  chart.dataset.hi = String(hi);
  chart.replaceChildren(...parts);
}

function renderEvents(events) {
  const list = document.getElementById("events");
  if (events.length === 0) { list.replaceChildren(svgless("li", "no events recorded")); return; }
  list.replaceChildren(...events.map((e) => {
    const li = document.createElement("li");
    li.className = e.level;
    li.dataset.kind = e.kind;
    li.append(svgless("time", e.time.replace("T", " ").slice(0, 19)), `${e.kind}: ${e.message}`);
    return li;
  }));
}

function svgless(tag, text) { const el = document.createElement(tag); el.textContent = text; return el; }

async function refresh() {
  try {
    const [status, values, events] = await Promise.all([api("status"), api("values"), api("events?limit=15")]);
    renderState(status);
    renderHedges(status.hedges);
    renderChart(values);
    renderEvents(events);
    document.getElementById("login").hidden = true;
    document.getElementById("updated").textContent = "updated " + new Date().toISOString().slice(11, 19) + " UTC";
    document.body.dataset.rendered = String(++rendered);
  } catch (err) {
    if (err.status === 401) document.getElementById("login").hidden = false;
    document.getElementById("updated").textContent = "not updated: " + err.message;
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("hedgebot-token", document.getElementById("token").value.trim());
  document.getElementById("login").hidden = true;
  clearTimeout(timer);
  refresh();
});

refresh();
