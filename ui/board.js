// Live calls board. Clocks are drawn here from each call's T0 and a measured server-clock
// offset (ping/pong), never from server ticks. On reconnect it resumes from the last sequence.
"use strict";

const state = { calls: new Map(), seq: 0, offsetMs: 0, token: null, socket: null, backoff: 500 };
const $ = (sel) => document.querySelector(sel);

function serverNow() { return Date.now() + state.offsetMs; }

function fmt(seconds) {
  if (seconds == null) return "—";
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function clockCell(call, doneAt, warnKey, lateKey, running = true) {
  const t0 = Date.parse(call.t0);
  const td = document.createElement("td");
  td.className = "clock";
  if (Number.isNaN(t0) || !running) { td.textContent = "—"; return td; }
  const end = doneAt ? Date.parse(doneAt) : (call.live ? serverNow() : null);
  if (end == null) { td.textContent = "—"; return td; }
  td.textContent = fmt((end - t0) / 1000);
  const warn = Date.parse(call.deadlines[warnKey]);
  const late = Date.parse(call.deadlines[lateKey]);
  if (doneAt) td.classList.add(end < late ? "met" : "late");
  else if (end >= late) td.classList.add("late");
  else if (end >= warn) td.classList.add("warn");
  return td;
}

function urgency(call) {
  // Calls nearest to (or past) a benchmark first.
  const next = call.recognized ? call.deadlines.compression_overdue : call.deadlines.recognition_overdue;
  const done = call.recognized ? (call.first_compression_at || call.not_given_reason) : call.ruled_out;
  return done ? Infinity : Date.parse(next);
}

function render() {
  const body = $("#board tbody");
  const calls = [...state.calls.values()].filter((c) => c.live).sort((a, b) => urgency(a) - urgency(b));
  body.replaceChildren(...calls.map((call) => {
    const tr = document.createElement("tr");
    tr.dataset.callId = call.call_id;
    const cell = (text) => { const td = document.createElement("td"); td.textContent = text ?? "—"; return td; };
    const alerts = document.createElement("td");
    for (const name of call.alerts) {
      const span = document.createElement("span");
      span.className = "alert" + (name.endsWith("overdue") ? " overdue" : "");
      span.textContent = name.replace("_", " ");
      alerts.append(span);
    }
    tr.append(
      cell(call.call_id), cell(call.telecommunicator), cell(call.phase.replaceAll("_", " ")),
      clockCell(call, call.recognized_at, "recognition_due", "recognition_overdue"),
      // The compression clock matters once arrest is recognised (it still counts from T0).
      clockCell(call, call.first_compression_at, "compression_due", "compression_overdue", call.recognized),
      alerts,
    );
    return tr;
  }));
  $("#empty").hidden = calls.length > 0;
}

function setStatus(text, cls) { const el = $("#status"); el.textContent = text; el.className = "status " + (cls || ""); }

function syncClock(socket) {
  socket.send(JSON.stringify({ type: "ping", t: Date.now() }));
}

function onMessage(msg) {
  switch (msg.type) {
    case "snapshot":
      state.calls = new Map(msg.calls.map((c) => [c.call_id, c]));
      state.seq = msg.seq;
      state.offsetMs = Date.parse(msg.server_time) - Date.now();
      $("#agencies").textContent = msg.agencies.join(", ");
      break;
    case "pong": {
      const now = Date.now();
      const rtt = now - msg.t;
      state.offsetMs = Date.parse(msg.server_time) + rtt / 2 - now;
      break;
    }
    case "call":
      state.calls.set(msg.call_id, msg.call);
      state.seq = Math.max(state.seq, msg.seq);
      break;
    case "event":
    case "missed":
      state.seq = Math.max(state.seq, msg.seq);
      break;
    case "alert": {
      const row = document.querySelector(`tr[data-call-id="${CSS.escape(msg.call_id)}"]`);
      if (row) row.classList.add("flash");
      break;
    }
  }
  render();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  socket.onopen = () => {
    const auth = { type: "auth", token: state.token };
    if (state.seq) auth.since = state.seq;
    socket.send(JSON.stringify(auth));
    setStatus("live", "live");
    state.backoff = 500;
    syncClock(socket);
  };
  socket.onmessage = (e) => onMessage(JSON.parse(e.data));
  socket.onclose = (e) => {
    if (e.code === 4401 || e.code === 4403) { setStatus("signed out: " + e.reason, "down"); $("#signin").hidden = false; return; }
    setStatus("reconnecting…", "down");
    setTimeout(connect, state.backoff);
    state.backoff = Math.min(state.backoff * 2, 10000);
  };
}

function start(token) {
  state.token = token;
  sessionStorage.setItem("tcpr-token", token);
  $("#signin").hidden = true;
  connect();
}

$("#signin").addEventListener("submit", (e) => { e.preventDefault(); start($("#token").value.trim()); });
setInterval(render, 250);
setInterval(() => state.socket && state.socket.readyState === 1 && syncClock(state.socket), 30000);

const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) history.replaceState(null, "", location.pathname);
const saved = fromHash || sessionStorage.getItem("tcpr-token");
if (saved) start(saved); else { $("#signin").hidden = false; setStatus("signed out"); }
