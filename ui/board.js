// Supervisor board: every live call of the agency with its clocks and alerts, most urgent first,
// calls about to breach a benchmark highlighted, calls to walk over to marked (breathing to
// verify, not dispatched), calls outside the alert scope apart, a silent CAD feed as a banner,
// the day's running figures, and below the live calls the debriefs still to hold. Calls of a
// training agency (scenarios played to trainees) are never among the real ones: they have their
// own table, each marked TRAINING, and stay out of the day's figures.
"use strict";

const $ = (sel) => document.querySelector(sel);
const NEAR_MS = 15000; // highlight a call this long before a benchmark
const FLASH_MS = 1500; // how long a row stays lit after an alert arrives

const flashUntil = new Map(); // call key -> when its alert highlight ends
let showOthers = false;

const live = new Live({
  onChange: (msg) => {
    // A telecommunicator belongs on the panel: leave at once, before asking for figures their
    // role may not read (the 403 would race the navigation).
    if (msg.type === "snapshot" && msg.role === "telecommunicator") return location.replace("panel.html");
    if (msg.type === "snapshot") {
      const training = new Set(msg.training_agencies || []);
      $("#agencies").textContent = msg.agencies.map((a) => (training.has(a) ? `${a} (training)` : a)).join(", ");
      refreshToday(); refreshTraining(); refreshDebriefs();
    }
    renderFeeds();
    render();
  },
  onAlert: (msg) => {
    // Kept apart from the rows: they are redrawn four times a second.
    flashUntil.set(callKey(msg), live.serverNow() + FLASH_MS);
    render();
  },
  onStatus: (status, reason) => {
    const el = $("#status");
    el.className = `status ${status === "live" ? "live" : "down"}`;
    el.textContent = status === "live" ? "live" : status === "reconnecting" ? "reconnecting…" : `signed out ${reason || ""}`;
    $("#connection").hidden = status !== "reconnecting";
  },
  onSignedOut: (reason) => askToSignIn(reason),
});

// Outside the agency's alert scope (DESIGN §4): shown apart, racing nothing.
function inScope(call) { return call.in_scope !== false; }
// Set apart: out of scope because its nature is not medical. A call with no nature code yet
// stays among the live calls, marked (it may be an arrest in its first seconds).
function apart(call) { return !inScope(call) && Boolean(call.nature && call.nature.code); }

// A scenario in a training agency: not a call of the public.
function training(call) { return call.training === true; }

// A `no` / `unsure` (or a recognition) and no unit yet, where the agency wants to hear of it.
function notDispatched(call) { return Boolean(call.dispatch_alerts && call.needs_dispatch); }

// The nearest benchmark a call is racing now, or null once it has none left to race.
function nextDeadline(call) {
  if (!inScope(call)) return null;
  const deadlines = [];
  if (!call.recognized && !call.ruled_out) deadlines.push(Date.parse(call.deadlines.recognition_overdue));
  if (call.recognized && !call.first_compression_at && !call.not_given_reason) deadlines.push(Date.parse(call.deadlines.compression_overdue));
  if (notDispatched(call) && call.deadlines.dispatch_overdue) deadlines.push(Date.parse(call.deadlines.dispatch_overdue));
  const known = deadlines.filter((d) => !Number.isNaN(d));
  return known.length ? Math.min(...known) : null;
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

function mark(cls, text, title) {
  const span = document.createElement("span");
  span.className = `mark ${cls}`;
  span.textContent = text;
  span.title = title;
  return span;
}

// The phase, with what a supervisor should walk over for: in words (and a title), not colour.
function phaseCell(call) {
  const td = document.createElement("td");
  td.className = "phase";
  const phase = call.phase.replaceAll("_", " ");
  const parts = [];
  if (training(call)) {
    parts.push(mark("training", "training",
      `A scenario played to a trainee in training agency ${call.agency}: not a real call, and kept out of every figure.`));
  }
  if (call.verify_breathing) {
    parts.push(mark("verify", "verify breathing",
      "Not awake, and the \"yes, breathing\" is not confirmed: it may be agonal breathing. " +
      "The caller should describe the breathing (gasping, snoring, gurgling, irregular?)."));
  }
  if (!(call.verify_breathing && call.phase === "verify_breathing")) parts.push(phase);
  if (!inScope(call) && !apart(call)) {
    parts.push(mark("nature", "no nature code yet",
      "Outside the alert scope until its nature code is medical or the script is opened: no alerts yet."));
  }
  if (notDispatched(call)) {
    parts.push(mark("dispatch", "not dispatched",
      "A no or unsure answer (or a recognised arrest) and no unit dispatched yet: dispatch in parallel."));
  }
  parts.forEach((part, i) => td.append(...(i ? [" ", part] : [part])));
  return td;
}

// The alerts the call raised: coloured while they stand, greyed once what they asked for is done
// (recognised, ruled out, compressions begun), so a call handled since is not shown as late.
function alertsCell(call) {
  const td = document.createElement("td");
  for (const name of call.alerts) {
    const span = document.createElement("span");
    const stands = alertStands(call, name);
    span.className = "alert" + (name.endsWith("overdue") ? " overdue" : "") + (stands ? "" : " past");
    span.textContent = name.replace("_", " ");
    if (!stands) span.title = "Raised earlier; what it asked for has been done since";
    td.append(span);
  }
  return td;
}

// A board over several real agencies names each call's agency too: their CAD numbers may
// coincide. (A training agency's scenarios are numbered apart and shown in their own table.)
function callCell(call) {
  return cell(live.realAgencies().length > 1 ? `${call.agency} ${call.call_id}` : call.call_id);
}

function callRow(call) {
  const tr = document.createElement("tr");
  tr.dataset.callId = call.call_id;
  tr.dataset.agency = call.agency;
  return tr;
}

function racingRow(call, now) {
  const tr = callRow(call);
  const deadline = nextDeadline(call);
  if (deadline != null && now >= deadline) tr.classList.add("breached");
  else if (deadline != null && now >= deadline - NEAR_MS) tr.classList.add("near");
  if (call.verify_breathing) tr.classList.add("verify");
  if ((flashUntil.get(callKey(call)) ?? 0) > now) tr.classList.add("flash");
  tr.append(
    callCell(call), cell(call.telecommunicator), phaseCell(call),
    clockCell(call, call.recognized_at, "recognition_due", "recognition_overdue", true),
    call.not_given_reason && !call.first_compression_at
      ? cell(call.not_given_reason === "cpr_in_progress"
        ? "CPR already in progress" // as the panel says it: a bystander began, not a failure
        : `not given: ${call.not_given_reason.replaceAll("_", " ")}`)
      : clockCell(call, call.first_compression_at, "compression_due", "compression_overdue", call.recognized),
    alertsCell(call),
  );
  return tr;
}

// A call outside the scope: how long it has run, with no benchmark colour.
function otherRow(call, now) {
  const tr = callRow(call);
  const nature = [call.nature?.code, call.nature?.text].filter(Boolean).join(" ");
  const since = document.createElement("td");
  since.className = "clock idle";
  since.textContent = fmtClock((now - Date.parse(call.t0)) / 1000);
  tr.append(callCell(call), cell(call.telecommunicator), cell(nature || null), phaseCell(call), since);
  return tr;
}

function render() {
  const now = live.serverNow();
  for (const [id, until] of flashUntil) if (until <= now) flashUntil.delete(id);
  const everyCall = live.liveCalls();
  const practice = everyCall.filter(training).sort((a, b) => Date.parse(a.t0) - Date.parse(b.t0));
  const all = everyCall.filter((c) => !training(c));
  const racing = all.filter((c) => !apart(c)).sort((a, b) => urgency(a) - urgency(b) || Date.parse(a.t0) - Date.parse(b.t0));
  const others = all.filter(apart).sort((a, b) => Date.parse(a.t0) - Date.parse(b.t0));
  $("#board tbody").replaceChildren(...racing.map((call) => racingRow(call, now)));
  $("#empty").hidden = racing.length > 0;
  const empty = others.length ? "No live calls in the alert scope." : "No live calls.";
  if ($("#empty").textContent !== empty) $("#empty").textContent = empty;
  $("#other").hidden = others.length === 0;
  const label = `${showOthers ? "Hide" : "Show"} non-medical calls (${others.length})`;
  if ($("#other-toggle").textContent !== label) $("#other-toggle").textContent = label;
  $("#other-calls").hidden = !showOthers;
  $("#other-calls tbody").replaceChildren(...(showOthers ? others.map((call) => otherRow(call, now)) : []));
  $("#training").hidden = practice.length === 0;
  $("#training-calls tbody").replaceChildren(...practice.map((call) => racingRow(call, now)));
  renderLiveRule();
}

// The operator's rule for calls the CAD never ends, stated where it acts.
function renderLiveRule() {
  const seconds = live.liveCallMaxAgeSeconds;
  const node = $("#live-rule");
  if (!seconds) { node.hidden = true; return; }
  const hours = seconds / 3600;
  const span = hours >= 1 ? `${Number(hours.toFixed(1))} h` : `${Math.round(seconds / 60)} min`;
  const text = `A call the CAD never ends leaves this board ${span} after it was received (TCPR_LIVE_CALL_MAX_AGE_SECONDS); it stays in the QI audits.`;
  if (node.textContent !== text) node.textContent = text;
  node.hidden = false;
}

$("#other-toggle").addEventListener("click", () => {
  showOthers = !showOthers;
  $("#other-toggle").setAttribute("aria-expanded", String(showOthers));
  render();
});

function pad(n) { return String(n).padStart(2, "0"); }

// HH:MM:SS in the browser's local time.
function timeOfDay(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "an unknown time" : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function duration(seconds) {
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

// One banner per silent CAD feed. Redrawn only when it changes, so the live region speaks once.
let feedsShown = "";
function renderFeeds() {
  const several = (live.me?.agencies.length ?? 0) > 1;
  const silent = live.silentFeeds().sort((a, b) => a.agency.localeCompare(b.agency));
  const banners = silent.map((f) => ({
    agency: f.agency,
    text: `${several ? `Agency ${f.agency}: ` : ""}CAD feed silent since ${timeOfDay(f.last_activity)}`,
    detail: `No event or heartbeat from the CAD for over ${duration(f.silence_seconds)}: new calls and updates may be missing from this board.`,
  }));
  const key = JSON.stringify(banners);
  if (key === feedsShown) return;
  feedsShown = key;
  $("#feeds").replaceChildren(...banners.map((b) => {
    const div = document.createElement("div");
    div.className = "feed-banner";
    div.dataset.agency = b.agency;
    const strong = document.createElement("strong");
    strong.textContent = b.text;
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = b.detail;
    div.append(strong, " ", detail);
    return div;
  }));
}

function seconds(median) { return median && median.value != null ? `${Math.round(median.value)} s` : "—"; }

async function refreshToday() {
  if (!live.me) return;
  const midnight = new Date(live.serverNow());
  midnight.setHours(0, 0, 0, 0);
  const totals = { calls: 0, recognized: 0, recognized_in_time: 0, first_compressions: 0, first_compressions_in_time: 0 };
  let medians = null;
  // The day's figures are the real agencies' only: a training agency's scenarios add nothing.
  const real = live.realAgencies();
  for (const agency of real) {
    const params = new URLSearchParams({ agency, from: midnight.toISOString() });
    const response = await fetch(`/api/v1/summary?${params}`);
    if (response.status === 401) return live.signedOut(SESSION_ENDED);
    if (!response.ok) return;
    const figures = await response.json();
    for (const key of Object.keys(totals)) totals[key] += figures[key];
    medians = real.length === 1 ? figures : null; // medians do not add up across agencies
  }
  $("#fig-calls").textContent = totals.calls;
  // "in time": within each agency's own benchmark (its profile's, 90 s / 150 s under aha-2020).
  $("#fig-recognized").textContent = `${totals.recognized} · ${totals.recognized_in_time} in time`;
  $("#fig-compressions").textContent = `${totals.first_compressions} · ${totals.first_compressions_in_time} in time`;
  $("#fig-median-recognition").textContent = medians ? seconds(medians.median_seconds_to_recognition) : "—";
  $("#fig-median-compression").textContent = medians ? seconds(medians.median_seconds_to_first_compression) : "—";
}

// Training compliance of the board's agencies: a count (no names), refreshed every 15 minutes.
async function refreshTraining() {
  if (!live.me || !["supervisor", "qi", "admin"].includes(live.me.role)) return;
  let out = 0;
  // A training agency's trainees are people of their home agency: counted there, once.
  const real = live.realAgencies();
  for (const agency of real) {
    const response = await fetch(`/api/v1/training/summary?${new URLSearchParams({ agency })}`).catch(() => null);
    if (!response || !response.ok) return;
    out += (await response.json()).out_of_compliance;
  }
  const text = `${out} ${out === 1 ? "person" : "people"} out of compliance`;
  if ($("#training-count").textContent !== text) $("#training-count").textContent = text;
  const link = $("#training-flag a");
  if (real.length === 1) link.href = `training.html?${new URLSearchParams({ agency: real[0] })}`;
  $("#training-flag").hidden = out === 0;
}

// -- Debriefs (issue 19): EMS-confirmed arrests never recognised or late, to talk through -------

const DEBRIEFS_SHOWN = 20; // per agency; the QI list has the rest
const HOLD_DEBRIEFS = new Set(["supervisor", "admin"]); // contract/policy.py HOLD_DEBRIEFS
let debriefsForm = null; // "agency/call id" whose mark-done form is open: refreshes leave it be

function reasonText(reason, d) {
  const s = (v) => (v == null ? "" : ` (${Math.round(v)} s)`);
  switch (reason) {
    case "never_recognised": return "never recognised";
    case "recognition_late": return `recognition late${s(d.intervals.to_recognition)}`;
    case "compression_late": return `first compression late${s(d.intervals.to_first_compression)}`;
    case "no_compression": return "no compressions";
    default: return reason.replaceAll("_", " ");
  }
}

function dayAndTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function debriefItem(d, several) {
  const li = document.createElement("li");
  li.dataset.callId = d.call_id;
  li.dataset.agency = d.agency;
  const call = document.createElement("span");
  call.className = "call";
  call.textContent = several ? `${d.agency} ${d.call_id}` : d.call_id;
  const when = document.createElement("span");
  when.className = "when";
  when.textContent = dayAndTime(d.t0);
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = d.telecommunicator || "telecommunicator unknown";
  const reasons = d.reasons.map((r) => {
    const span = document.createElement("span");
    span.className = "reason";
    span.textContent = reasonText(r, d);
    return span;
  });
  li.append(call, when, who, ...reasons);
  if (HOLD_DEBRIEFS.has(live.me?.role)) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mark-done";
    button.textContent = "Mark done…";
    button.setAttribute("aria-label", `Mark the debrief of call ${d.call_id} done`);
    button.addEventListener("click", () => openDebriefForm(li, d));
    li.append(button);
  }
  return li;
}

function openDebriefForm(li, d) {
  if (li.querySelector("form")) return;
  debriefsForm = `${d.agency}/${d.call_id}`;
  const form = document.createElement("form");
  const label = document.createElement("label");
  label.textContent = "Note (optional) ";
  const note = document.createElement("textarea");
  note.maxLength = 2000;
  note.setAttribute("aria-label", `Debrief note for call ${d.call_id} (optional)`);
  label.append(note);
  const done = document.createElement("button");
  done.textContent = "Debrief done";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  const close = () => { debriefsForm = null; form.remove(); li.querySelector(".mark-done")?.focus(); };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); close(); }
    // Ctrl/Cmd+Enter in the note sends it; Enter alone starts a new line.
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    done.disabled = true;
    const ok = await markDebriefDone(d, note.value);
    if (ok) { debriefsForm = null; await refreshDebriefs(); $("#debriefs-title").focus?.(); }
    else done.disabled = false;
  });
  form.append(label, done, cancel);
  li.append(form);
  note.focus();
}

async function markDebriefDone(d, note) {
  const path = `/api/v1/debriefs/${encodeURIComponent(d.agency)}/${encodeURIComponent(d.call_id)}`;
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(note.trim() ? { note } : {}),
  });
  if (response.status === 401) { live.signedOut(SESSION_ENDED); return false; }
  // 409: another supervisor held it meanwhile, or it no longer needs one; either way it is off the list.
  if (response.ok || response.status === 409) return true;
  const body = await response.json().catch(() => null);
  showDebriefsError(`Could not mark call ${d.call_id} done: ${body?.detail?.detail || body?.detail || response.status}`);
  return false;
}

function showDebriefsError(text) {
  const el = $("#debriefs-error");
  el.textContent = text || "";
  el.hidden = !text;
}

async function refreshDebriefs() {
  if (!live.me) return;
  const found = [];
  let outstanding = 0;
  // A scenario missed in training is for the trainer's session report, not a floor debrief.
  for (const agency of live.realAgencies()) {
    const params = new URLSearchParams({ agency, limit: String(DEBRIEFS_SHOWN) });
    let response;
    try { response = await fetch(`/api/v1/debriefs?${params}`); } catch { return; } // offline: try again later
    if (response.status === 401) return live.signedOut(SESSION_ENDED);
    if (response.status === 403) continue; // a role that does not read debriefs
    if (!response.ok) { showDebriefsError(`Debriefs could not be loaded (${response.status}).`); return; }
    const body = await response.json();
    outstanding += body.counts.outstanding;
    for (const d of body.debriefs) found.push({ ...d, agency });
  }
  showDebriefsError("");
  const section = $("#debriefs");
  section.hidden = false;
  section.classList.toggle("some", outstanding > 0);
  $("#debriefs-count").textContent = outstanding;
  if (debriefsForm) return; // a supervisor is writing a note: the list waits
  found.sort((a, b) => Date.parse(b.t0) - Date.parse(a.t0));
  const several = live.realAgencies().length > 1;
  const items = found.map((d) => debriefItem(d, several));
  if (outstanding > found.length) {
    const more = document.createElement("li");
    more.id = "debriefs-more";
    more.textContent = `and ${outstanding - found.length} more in the QI audits (qi.html)`;
    items.push(more);
  }
  // The list is drawn anew: the keyboard focus goes back to the same call's button, not the page.
  const list = $("#debriefs-list");
  const focusedItem = list.contains(document.activeElement) ? document.activeElement.closest("li") : null;
  const focusedCall = focusedItem ? focusedItem.dataset.callId : null;
  const focusedAgency = focusedItem ? focusedItem.dataset.agency : null;
  list.replaceChildren(...items);
  if (focusedCall) {
    const again = [...list.querySelectorAll("li")].find((li) => li.dataset.callId === focusedCall && li.dataset.agency === focusedAgency);
    const button = again && again.querySelector("button");
    if (button) button.focus();
  }
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
setInterval(refreshTraining, 15 * 60000);
setInterval(refreshDebriefs, 45000);
window.tcpr = { live, refreshToday, refreshTraining, refreshDebriefs };

resumeSession().then(({ me, reason }) => (me ? signedIn() : askToSignIn(reason)));
