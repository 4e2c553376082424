// The trainer's page (issue 19): start a training session for a trainee, play its scenarios live
// into the training agency (the trainee works them in their ordinary panel), read the caller's
// lines aloud as the trainee reaches each point of the script, watch what the trainee pressed,
// then each scenario's score, computed by the service from the call's audit. Every action is a
// request; the page shows only what the service answers (polled each second while running).
"use strict";

const $ = (sel) => document.querySelector(sel);
const POLL_MS = 1000;
const PHASES = {
  ask_conscious: "Asking: awake?", ask_breathing: "Asking: breathing normally?", triage: "Questions",
  verify_breathing: "Verifying the breathing", ruled_out: "Ruled out", recognized: "Arrest recognised",
  tcpr_instructions: "T-CPR instructions", compressions: "Compressions under way",
  tcpr_not_given: "T-CPR not given", ended: "Call ended",
};
const POINT_NAMES = {
  ringing: "Ringing", opening: "First words", conscious: "Awake?", breathing: "Breathing normally?",
  describe: "Describing the breathing", ruled_out: "If ruled out", instructions: "Instructions",
  compressions: "Compressions", not_given: "T-CPR not given",
};
const state = { me: null, offer: null, session: null, offsetMs: 0, timer: null, busy: false };


class Refused extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: options.body ? { "Content-Type": "application/json" } : {},
  });
  if (response.status === 401) { signedOut(SESSION_ENDED); throw new Refused(401, SESSION_ENDED); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const d = body.detail;
    throw new Refused(response.status, typeof d === "string" ? d : d && d.detail ? d.detail : JSON.stringify(d));
  }
  return body;
}

function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
}

function secs(s) { return s == null ? "—" : `${Number(s).toFixed(1)} s`; }

// -- setting up ---------------------------------------------------------------------------------
async function showSetup() {
  $("#session").hidden = true;
  $("#setup").hidden = false;
  const offer = state.offer || (state.offer = await api("/api/v1/training/scenarios"));
  const fill = (select, values) => select.replaceChildren(...values.map((v) => el("option", { value: v, text: v })));
  if (!$("#agency").options.length) {
    fill($("#agency"), offer.training_agencies);
    fill($("#home-agency"), offer.home_agencies);
    $("#scenario-choice").replaceChildren(...offer.scenarios.map((s) => el("li", {},
      el("label", {}, el("input", { type: "checkbox", name: "scenario", value: s.id, checked: "" }), ` ${s.title}`),
      el("span", { class: "muted", text: ` — ${s.brief}` }))));
  }
  if (!offer.training_agencies.length) {
    $("#status").textContent = "No training agency you may train in: configure one (\"training\": true) and give your token that agency.";
  }
  await listSessions();
}

async function listSessions() {
  const agency = $("#home-agency").value;
  if (!agency) return;
  const sessions = await api(`/api/v1/training/sessions?agency=${encodeURIComponent(agency)}`);
  $("#trainees").replaceChildren(...[...new Set(sessions.map((s) => s.trainee))].map((t) => el("option", { value: t })));
  $("#sessions tbody").replaceChildren(...sessions.map((s) => el("tr", {},
    el("td", { text: when(s.started_at) }), el("td", { text: s.trainee }), el("td", { text: s.category }),
    el("td", { text: `${s.played} of ${s.scenario_ids.length}` }), el("td", { text: s.status }),
    el("td", {}, el("a", { href: `trainer.html?id=${s.id}`, text: "Open" }), " ",
      el("a", { href: `training-report.html?id=${s.id}`, text: "Report" })))));
}

async function startSession(e) {
  e.preventDefault();
  $("#new-error").textContent = "";
  const body = {
    agency: $("#agency").value,
    home_agency: $("#home-agency").value,
    trainee: $("#trainee").value.trim(),
    category: $("#category").value,
    scenarios: [...document.querySelectorAll("input[name=scenario]:checked")].map((i) => i.value),
    speed: Number($("#speed").value) || 1,
  };
  try {
    const session = await api("/api/v1/training/sessions", { method: "POST", body: JSON.stringify(body) });
    showSessionView(session);
  } catch (err) {
    $("#new-error").textContent = `Not started: ${err.message}`;
  }
}

// -- a session ----------------------------------------------------------------------------------
function showSessionView(session) {
  history.replaceState(null, "", `trainer.html?id=${session.id}`);
  $("#setup").hidden = true;
  $("#session").hidden = false;
  show(session);
  clearInterval(state.timer);
  state.timer = setInterval(poll, POLL_MS);
}

async function poll() {
  if (!state.session || state.busy) return;
  try {
    show(await api(`/api/v1/training/sessions/${state.session.id}`));
  } catch (err) {
    if (err.status !== 401) $("#session-error").textContent = `Could not refresh: ${err.message}`;
  }
}

async function act(action) {
  if (!state.session || state.busy) return;
  if (action === "abandon" && !confirm("Abandon this session? It credits no training time.")) return;
  if (action === "end" && !confirm("End the session and credit its time to the trainee?")) return;
  // N is next to the keys a trainer types while reading: it never cuts a trainee's call short unasked.
  const current = state.session.current ? state.session.scenarios[state.session.current - 1] : null;
  if (action === "next" && current && current.state === "playing"
      && !confirm(`${current.title} is still playing: end its call now and play the next scenario?`)) return;
  state.busy = true;
  $("#session-error").textContent = "";
  try {
    show(await api(`/api/v1/training/sessions/${state.session.id}/${action}`, { method: "POST" }));
  } catch (err) {
    $("#session-error").textContent = err.message;
  } finally {
    state.busy = false;
  }
}

function show(session) {
  state.session = session;
  state.offsetMs = Date.parse(session.server_time) - Date.now();
  const running = session.status === "running";
  $("#session-title").textContent = `Session ${session.id}: ${session.trainee}`;
  $("#session-facts").textContent = [
    session.category === "initial" ? "Initial training" : "Continuing education",
    `${session.home_agency} trainee in ${session.agency}`, `trainer ${session.trainer}`,
    `started ${when(session.started_at)}`, session.status,
    session.credited_minutes != null ? `${session.credited_minutes} min credited` : `${session.duration_minutes} min`,
    session.score.total ? `score ${session.score.passed}/${session.score.total}` : null,
  ].filter(Boolean).join(" · ");
  document.body.dataset.status = session.status;
  const current = session.current ? session.scenarios[session.current - 1] : null;
  const waiting = session.scenarios.some((s) => s.state === "pending");
  $("#next").disabled = !running || !waiting;
  $("#stop").disabled = !running || !current || current.state === "ended";
  $("#end").disabled = !running;
  $("#abandon").disabled = !running;
  $("#report-link").href = `training-report.html?id=${session.id}`;
  $("#played").replaceChildren(...session.scenarios.map((s) => el("li", {
    class: `${s.state}${current && s.number === current.number ? " current" : ""}`, "data-scenario": s.scenario,
  }, el("strong", { text: s.title }), ` · ${s.state}`, s.score ? ` · ${s.score.passed}/${s.score.total}` : "")));
  if (!running) clearInterval(state.timer);
  showCurrent(current);
}

function showCurrent(s) {
  $("#current").hidden = !s;
  if (!s) return;
  const call = s.call;
  $("#current").dataset.state = s.state;
  $("#current-title").textContent = `${s.number}. ${s.title} · ${s.call_id}`;
  $("#current-brief").textContent = s.brief;
  $("#current-phase").textContent = call ? `${PHASES[call.phase] || call.phase}${call.answered_at ? "" : " · not answered yet"}` : "Starting…";
  const lines = s.caller || [];
  $("#caller-lines").replaceChildren(...(lines.length ? lines.map((line) => el("div", { class: "line" },
    el("div", { class: "cue", text: line.cue }),
    el("div", { class: "say", text: line.text }),
    line.gloss ? el("div", { class: "gloss", text: line.gloss }) : null)) : [el("div", { class: "say muted", text: s.state === "ended" ? "The call has ended." : "…" })]));
  $("#pressed").replaceChildren(...s.pressed.map((p) => el("li", {},
    el("span", { class: "at", text: secs(p.seconds) }), ` ${p.description}`)));
  if (!s.pressed.length) $("#pressed").append(el("li", { class: "muted", text: "Nothing yet." }));
  renderClocks(call);
  $("#score").hidden = !s.score;
  if (s.score) {
    $("#score-title").textContent = `Score ${s.score.passed}/${s.score.total}`;
    $("#score-checks").replaceChildren(...s.score.checks.map((c) => el("tr", { class: c.passed ? "passed" : "failed", "data-check": c.name },
      el("td", { class: "mark", text: c.passed ? "✓" : "✗" }), el("th", { scope: "row", text: c.label }), el("td", { text: c.detail }))));
  }
  if (s.script) {
    $("#script-lines").replaceChildren(...Object.entries(s.script).flatMap(([point, pointLines]) => [
      el("dt", { text: POINT_NAMES[point] || point }),
      ...pointLines.map((line) => el("dd", {}, `${line.cue}: “${line.text}”`, line.gloss ? el("span", { class: "gloss", text: ` (${line.gloss})` }) : null)),
    ]));
  }
}

function renderClocks(call) {
  const clock = { serverNow: () => Date.now() + state.offsetMs };
  const set = (id, st) => { const node = $(id); node.textContent = st.text; node.className = st.cls ? `clock ${st.cls}` : "clock"; };
  if (!call) { set("#clock-recognition", { text: "—" }); set("#clock-compression", { text: "—" }); return; }
  set("#clock-recognition", clockState(clock, call, call.recognized_at, "recognition_due", "recognition_overdue"));
  set("#clock-compression", call.recognized
    ? clockState(clock, call, call.first_compression_at, "compression_due", "compression_overdue")
    : { text: "—" });
}

// -- signing in ---------------------------------------------------------------------------------
function signedOut(reason) {
  clearInterval(state.timer);
  state.me = null;
  offerSignOut(false, () => signedOut("Signed out."));
  $("#setup").hidden = true;
  $("#session").hidden = true;
  $("#signin").hidden = false;
  $("#signin-reason").textContent = reason || "Sign in with your supervisor token.";
}

async function start(me) {
  state.me = me;
  $("#signin").hidden = true;
  $("#me").textContent = `${me.name || me.role} · ${me.agencies.join(", ")}`;
  offerSignOut(true, () => signedOut("Signed out."));
  const id = new URLSearchParams(location.search).get("id");
  try {
    if (id) showSessionView(await api(`/api/v1/training/sessions/${encodeURIComponent(id)}`));
    else await showSetup();
  } catch (err) {
    $("#status").textContent = err.status === 403 ? "Only a supervisor or admin of the training and trainee's agencies may train." : `Refused: ${err.message}`;
  }
}

$("#signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    start(await openSession(readTokenInput()));
  } catch (err) {
    signedOut(err.message);
  }
});
$("#new-session").addEventListener("submit", startSession);
$("#home-agency").addEventListener("change", () => listSessions().catch(() => {}));
for (const action of ["next", "stop", "end", "abandon"]) $(`#${action}`).addEventListener("click", () => act(action));
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey || e.altKey) return;
  if ($("#session").hidden) return;
  const key = e.key.toLowerCase();
  if (key === "n" && !$("#next").disabled) act("next");
  else if (key === "s" && !$("#stop").disabled) act("stop");
  else return;
  e.preventDefault();
});
setInterval(() => { if (state.session) showClocksOnly(); }, 200);
function showClocksOnly() {
  const s = state.session.current ? state.session.scenarios[state.session.current - 1] : null;
  if (s) renderClocks(s.call);
}

resumeSession().then(({ me, reason }) => (me ? start(me) : signedOut(reason)));
