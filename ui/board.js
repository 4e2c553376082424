// Supervisor board: every live call of the agency with its clocks and alerts, most urgent first,
// calls about to breach a benchmark highlighted, and the day's running figures.
"use strict";

const $ = (sel) => document.querySelector(sel);
const NEAR_MS = 15000; // highlight a call this long before a benchmark

const live = new Live({
  onChange: (msg) => {
    // A telecommunicator belongs on the panel: leave at once, before asking for figures their
    // role may not read (the 403 would race the navigation).
    if (msg.type === "snapshot" && msg.role === "telecommunicator") return location.replace("panel.html");
    if (msg.type === "snapshot") { $("#agencies").textContent = msg.agencies.join(", "); refreshToday(); }
    render();
  },
  onAlert: (msg) => {
    const row = document.querySelector(`tr[data-call-id="${CSS.escape(msg.call_id)}"]`);
    if (row) row.classList.add("flash");
  },
  onStatus: (status, reason) => {
    const el = $("#status");
    el.className = `status ${status === "live" ? "live" : "down"}`;
    el.textContent = status === "live" ? "live" : status === "reconnecting" ? "reconnecting…" : `signed out ${reason || ""}`;
    $("#connection").hidden = status !== "reconnecting";
  },
  onSignedOut: (reason) => askToSignIn(reason),
});

// The benchmark a call is racing now, or null once it has none left to race.
function nextDeadline(call) {
  if (!call.recognized && !call.ruled_out) return Date.parse(call.deadlines.recognition_overdue);
  if (call.recognized && !call.first_compression_at && !call.not_given_reason) return Date.parse(call.deadlines.compression_overdue);
  return null;
}

function urgency(call) {
  const deadline = nextDeadline(call);
  return deadline == null ? Infinity : deadline;
}

function cell(text) { const td = document.createElement("td"); td.textContent = text ?? "—"; return td; }

function clockCell(call, doneAt, warnKey, lateKey, running) {
  const td = document.createElement("td");
  const state = running ? clockState(live, call, doneAt, warnKey, lateKey) : { text: "—", cls: "" };
  td.className = `clock ${state.cls}`;
  td.textContent = state.text;
  return td;
}

function render() {
  const now = live.serverNow();
  const calls = live.liveCalls().sort((a, b) => urgency(a) - urgency(b) || Date.parse(a.t0) - Date.parse(b.t0));
  $("#board tbody").replaceChildren(...calls.map((call) => {
    const tr = document.createElement("tr");
    tr.dataset.callId = call.call_id;
    const deadline = nextDeadline(call);
    if (deadline != null && now >= deadline) tr.classList.add("breached");
    else if (deadline != null && now >= deadline - NEAR_MS) tr.classList.add("near");
    const alerts = document.createElement("td");
    for (const name of call.alerts) {
      const span = document.createElement("span");
      span.className = "alert" + (name.endsWith("overdue") ? " overdue" : "");
      span.textContent = name.replace("_", " ");
      alerts.append(span);
    }
    tr.append(
      cell(call.call_id), cell(call.telecommunicator), cell(call.phase.replaceAll("_", " ")),
      clockCell(call, call.recognized_at, "recognition_due", "recognition_overdue", true),
      clockCell(call, call.first_compression_at, "compression_due", "compression_overdue", call.recognized),
      alerts,
    );
    return tr;
  }));
  $("#empty").hidden = calls.length > 0;
}

function seconds(median) { return median && median.value != null ? `${Math.round(median.value)} s` : "—"; }

async function refreshToday() {
  if (!live.me) return;
  const midnight = new Date(live.serverNow());
  midnight.setHours(0, 0, 0, 0);
  const totals = { calls: 0, recognized: 0, recognized_in_time: 0, first_compressions: 0, first_compressions_in_time: 0 };
  let medians = null;
  for (const agency of live.me.agencies) {
    const params = new URLSearchParams({ agency, from: midnight.toISOString() });
    const response = await fetch(`/api/v1/summary?${params}`);
    if (response.status === 401) return live.signedOut(SESSION_ENDED);
    if (!response.ok) return;
    const figures = await response.json();
    for (const key of Object.keys(totals)) totals[key] += figures[key];
    medians = live.me.agencies.length === 1 ? figures : null; // medians do not add up across agencies
  }
  $("#fig-calls").textContent = totals.calls;
  $("#fig-recognized").textContent = `${totals.recognized} (${totals.recognized_in_time})`;
  $("#fig-compressions").textContent = `${totals.first_compressions} (${totals.first_compressions_in_time})`;
  $("#fig-median-recognition").textContent = medians ? seconds(medians.median_seconds_to_recognition) : "—";
  $("#fig-median-compression").textContent = medians ? seconds(medians.median_seconds_to_first_compression) : "—";
}

function askToSignIn(reason) {
  offerSignOut(false, askToSignIn);
  $("#signin-reason").textContent = reason || "Sign in with a supervisor token.";
  $("#signin").hidden = false;
  $("#status").className = "status down";
  $("#status").textContent = "signed out";
  $("#token").focus();
}

const signedIn = signInForLive(live, askToSignIn);
setInterval(render, 250);
setInterval(refreshToday, 15000);
window.tcpr = { live, refreshToday };

resumeSession().then(({ me, reason }) => (me ? signedIn() : askToSignIn(reason)));
