// The printable report of one training session (training-report.html?id=N): the trainee, the
// trainer, the date and duration, and each scenario played with its intervals, its score checks
// (from the call's audit) and what the trainee pressed. The trainer and the trainee may open it.
"use strict";

const $ = (sel) => document.querySelector(sel);
const INTERVALS = [
  ["to_answer", "Answered"], ["to_recognition", "Recognition"], ["to_tcpr_start", "T-CPR start"],
  ["to_first_compression", "First compression"], ["to_dispatch", "Dispatch"], ["to_on_scene", "EMS on scene"],
];


function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
function secs(s) { return s == null ? "—" : `${Number(s).toFixed(1)} s`; }

function facts(pairs) {
  return el("dl", { class: "facts" }, ...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

function scenarioSection(s) {
  const head = el("div", { class: "audit-head" },
    el("h2", { text: `${s.number}. ${s.title}` }),
    el("p", { class: "muted", text: `${s.brief} · call ${s.call_id} · started ${when(s.started_at)}` }));
  if (!s.score) {
    return el("section", { class: "scenario", "data-scenario": s.scenario }, head,
      el("p", { text: s.state === "pending" ? "Not played." : "Not scored: the call had not ended." }));
  }
  const checks = el("table", { class: "checks" },
    el("caption", { text: `Score ${s.score.passed} of ${s.score.total}` }),
    el("tbody", {}, ...s.score.checks.map((c) => el("tr", { class: c.passed ? "passed" : "failed", "data-check": c.name },
      el("td", { class: "mark", text: c.passed ? "✓ met" : "✗ not met" }), el("th", { scope: "row", text: c.label }), el("td", { text: c.detail })))));
  const intervals = el("table", { class: "intervals" },
    el("caption", { text: "Intervals from T0" }),
    el("tbody", {}, ...INTERVALS.map(([key, label]) => el("tr", {}, el("th", { scope: "row", text: label }), el("td", { class: "num", text: secs(s.intervals[key]) })))));
  const pressed = el("table", { class: "timeline" },
    el("caption", { text: "What the trainee pressed" }),
    el("tbody", {}, ...(s.pressed.length ? s.pressed.map((p) => el("tr", {}, el("td", { class: "num", text: secs(p.seconds) }), el("td", { text: p.description })))
      : [el("tr", {}, el("td", { text: "Nothing." }))])));
  return el("section", { class: "scenario", "data-scenario": s.scenario }, head, el("div", { class: "audit-grid" }, checks, intervals), pressed);
}

function render(session) {
  const played = session.scenarios.filter((s) => s.state !== "pending");
  const minutes = session.credited_minutes != null ? `${session.credited_minutes} min (credited)` : `${session.duration_minutes} min`;
  $("#report").replaceChildren(
    el("section", { class: "summary" },
      el("h1", { text: "T-CPR training session report" }),
      facts([
        ["Trainee", `${session.trainee} (${session.home_agency})`],
        ["Trainer", session.trainer],
        ["Category", session.category === "initial" ? "Initial training" : "Continuing education"],
        ["Date", when(session.started_at)],
        ["Duration", minutes],
        ["Status", session.status],
        ["Score", session.score.total ? `${session.score.passed} of ${session.score.total} checks met, ${session.score.scenarios_scored} scenario(s)` : "—"],
        ["Training agency", session.agency],
      ])),
    ...played.map(scenarioSection));
  $("#status").textContent = `Session ${session.id}: ${played.length} scenario(s) played.`;
  document.body.dataset.ready = "true";
}

async function load() {
  const id = new URLSearchParams(location.search).get("id");
  if (!id) { $("#status").textContent = "No session given: open this page from the training page."; return; }
  const { me, reason } = await resumeSession();
  if (!me) { $("#status").textContent = reason || "Sign in to read the report."; $("#signin").hidden = false; return; }
  $("#signin").hidden = true;
  const response = await fetch(`/api/v1/training/sessions/${encodeURIComponent(id)}`, { credentials: "same-origin" });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $("#status").textContent = `Refused (${response.status}): ${typeof body.detail === "string" ? body.detail : response.statusText}`;
    return;
  }
  render(await response.json());
}

$("#print").addEventListener("click", () => window.print());
$("#signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  try { await openSession(readTokenInput()); } catch (err) { $("#status").textContent = err.message; return; }
  load();
});
load();
