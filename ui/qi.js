// QI audit review: the filtered audit list (keyboard: arrows, Enter, Esc), optionally a random
// review sample of it, one call's audit, and the review form. Saving or signing off posts one
// complete `qi.review` event (the latest by `at` is the one in force, so each save carries the
// whole determination), then reloads the audit so the page shows what is now in force, not what
// was typed. A supervisor or a QI reviewer may review (GET /api/v1/qi/me says may_review).
import {
  MOMENTS, api, download, el, exclusionRule, exclusionState, fmtSeconds, human, mark, notGiven, parts, renderAudit,
  reviewStatus, sampleText, HttpError,
} from "./qi-audit.js";

const $ = (sel) => document.querySelector(sel);
// `sample`: the review sample drawn ({fraction, seed}), or null for the whole list.
const state = { me: null, reasons: null, rows: [], cursor: null, selected: null, audit: null, sample: null, clockOffsetMs: 0 };
// The period's debriefs by call id (GET /api/v1/debriefs?state=all): outstanding, or held by whom.
let debriefs = new Map();

// -- time helpers --------------------------------------------------------------------------------
const pad = (n, w = 2) => String(n).padStart(w, "0");

// Now, written with this browser's own UTC offset (the event's `at`).
function localIso(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${off >= 0 ? "+" : "-"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function offsetMinutes(offset) {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

// The wall time (to the second) of instant `iso` on a clock at `offset`: what a datetime input shows.
function wallIn(iso, offset) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "";
  return new Date(ms + offsetMinutes(offset) * 60000).toISOString().slice(0, 19);
}

function nextDay(date) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
}

// -- filters and the list ------------------------------------------------------------------------
function filterParams() {
  const p = new URLSearchParams({ agency: $("#f-agency").value });
  if ($("#f-from").value) p.set("from", $("#f-from").value);
  if ($("#f-through").value) p.set("to", nextDay($("#f-through").value));
  const tc = $("#f-telecommunicator").value.trim();
  if (tc) p.set("telecommunicator", tc);
  if ($("#f-missed").checked) p.set("missed", "true");
  if ($("#f-population").checked) p.set("population", "true");
  const review = $("#f-review").value;
  if (review) p.set(review, "true");
  if (state.sample) {
    p.set("sample", String(state.sample.fraction));
    p.set("seed", state.sample.seed);
  }
  return p;
}

// Filters and the open call live in the address, so a link (or a reload) opens the same view.
function remember() {
  const p = filterParams();
  if ($("#f-through").value) {
    p.set("through", $("#f-through").value);
    p.delete("to");
  }
  if (state.selected) p.set("call", state.selected);
  history.replaceState(null, "", `${location.pathname}?${p}`);
  $("#print-list").href = `qi-print.html?${filterParams()}`;
}

function restore() {
  const p = new URLSearchParams(location.search);
  if (p.get("from")) $("#f-from").value = p.get("from");
  if (p.get("through")) $("#f-through").value = p.get("through");
  if (p.get("telecommunicator")) $("#f-telecommunicator").value = p.get("telecommunicator");
  $("#f-missed").checked = p.get("missed") === "true";
  $("#f-population").checked = p.get("population") === "true";
  $("#f-review").value = p.get("unreviewed") === "true" ? "unreviewed" : p.get("unsigned") === "true" ? "unsigned" : "";
  const fraction = Number(p.get("sample"));
  if (p.get("sample") && p.get("seed")) {
    state.sample = { fraction, seed: p.get("seed") };
    $("#s-percent").value = String(Number((fraction * 100).toFixed(6)));
    $("#s-seed").value = p.get("seed");
  }
  return { agency: p.get("agency"), call: p.get("call") };
}

// -- the review sample ---------------------------------------------------------------------------
// A short random seed to start from; the reviewer may type their own (e.g. 2026-q2) to reproduce.
function randomSeed() { return crypto.randomUUID().slice(0, 8); }

// Python's str.isprintable, which the service asks of a seed: no control, format or separator
// characters other than the space.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

function drawSample(e) {
  e.preventDefault();
  const error = $("#sample-error");
  const share = $("#s-percent").value.trim() === "" ? NaN : Number($("#s-percent").value);
  const seed = $("#s-seed").value.trim();
  let wrong = null;
  if (!(share > 0 && share <= 100)) wrong = ["#s-percent", "Enter a share above 0 and at most 100 %."];
  else if (!seed || seed.length > 64 || UNPRINTABLE.test(seed)) wrong = ["#s-seed", "Enter a seed of 1 to 64 printable characters."];
  for (const id of ["#s-percent", "#s-seed"]) $(id).removeAttribute("aria-invalid");
  if (wrong) {
    error.textContent = wrong[1];
    $(wrong[0]).setAttribute("aria-invalid", "true");
    $(wrong[0]).focus();
    return;
  }
  error.textContent = "";
  $("#s-seed").value = seed;
  state.sample = { fraction: Number((share / 100).toPrecision(12)), seed };
  loadList();
}

function wholeList() {
  state.sample = null;
  $("#sample-error").textContent = "";
  $("#s-draw").focus(); // the reset button hides itself
  loadList();
}

function benchCell(seconds, threshold, missedIfNone) {
  const cls = seconds == null ? (missedIfNone ? "missed" : "") : seconds < threshold ? "met" : "missed";
  return el("td", { class: `num ${cls}`, text: seconds == null ? (missedIfNone ? "not recog." : "—") : fmtSeconds(seconds) });
}

function rowFor(row, thresholds) {
  const status = row.signed_off ? ["signed", "signed off"] : row.reviewed ? ["draft", "draft"] : ["open", "not reviewed"];
  const t0 = new Date(row.t0).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  const exclusion = exclusionState(row.excluded, row.exclusion_valid);
  const withMark = (cell, key) => { if (key) cell.append(" ", mark(key)); return cell; };
  return el("tr", {
    "data-call-id": row.call_id, tabindex: "-1", class: row.missed ? "missed-row" : null,
    "aria-selected": row.call_id === state.selected ? "true" : "false",
  },
    el("td", {}, row.call_id, row.in_population ? el("span", { class: "pop", title: "AHA population", text: "P" }) : null),
    withMark(el("td", {}, el("span", { text: t0 })), row.t0_fallback ? "t0-answer" : null),
    el("td", { text: row.telecommunicator || "—" }),
    withMark(benchCell(row.intervals.to_recognition, thresholds.recognition_s, row.in_population && !row.recognized),
      row.recognition_after_arrival ? "after-arrival" : null),
    withMark(benchCell(row.intervals.to_first_compression, thresholds.first_compression_s, false),
      exclusion ? `exclusion-${exclusion}` : null),
    el("td", {}, el("span", { class: `badge ${status[0]}`, text: status[1] }), debriefBadge(debriefs.get(row.call_id))),
  );
}

const REASON_WORDS = {
  never_recognised: "never recognised", recognition_late: "recognition late",
  compression_late: "first compression late", no_compression: "no compressions",
};

// An outstanding debrief, or who held it and when; nothing for a call that needs none.
function debriefBadge(d) {
  if (!d) return null;
  const why = d.reasons.map((r) => REASON_WORDS[r] || r).join(", ");
  if (d.outstanding) return el("span", { class: "debrief-mark due", title: `Debrief outstanding: ${why}`, text: "debrief due" });
  const when = new Date(d.done_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  const held = `Debriefed by ${d.done_by}, ${when}${d.note ? ` — ${d.note}` : ""}`;
  return el("span", { class: "debrief-mark held", title: held, text: `debriefed · ${d.done_by}` });
}

// The period's debriefs (same agency and period as the list), and the outstanding ones apart.
async function loadDebriefs() {
  const f = filterParams();
  const p = new URLSearchParams({ agency: f.get("agency"), state: "all", limit: "500" });
  for (const key of ["from", "to"]) if (f.get(key)) p.set(key, f.get(key));
  let body;
  try {
    body = await api(`/api/v1/debriefs?${p}`);
  } catch {
    debriefs = new Map(); // unreadable: the list shows without debriefs
    $("#debriefs").hidden = true;
    return;
  }
  debriefs = new Map(body.debriefs.map((d) => [d.call_id, d]));
  const due = body.debriefs.filter((d) => d.outstanding);
  $("#debriefs").hidden = false;
  $("#debriefs-summary").textContent = `Outstanding debriefs: ${body.counts.outstanding} · held: ${body.counts.done}`;
  $("#debriefs-list").replaceChildren(...due.map((d) => el("li", {},
    el("button", { type: "button", class: "link", "data-call-id": d.call_id, text: d.call_id }),
    ` ${d.telecommunicator || "—"} · ${d.reasons.map((r) => REASON_WORDS[r] || r).join(", ")}`)));
}

async function loadList({ append = false } = {}) {
  const p = filterParams();
  p.set("limit", "50");
  if (append && state.cursor) p.set("cursor", state.cursor);
  remember();
  if (!append) await loadDebriefs();
  let body;
  try {
    body = await api(`/api/v1/audits?${p}`);
  } catch (err) {
    return failed(err, "#counts");
  }
  state.rows = append ? state.rows.concat(body.audits) : body.audits;
  state.cursor = body.next_cursor;
  const tbody = $("#audits tbody");
  const rows = body.audits.map((r) => rowFor(r, body.thresholds));
  if (append) tbody.append(...rows); else tbody.replaceChildren(...rows);
  const focusable = tbody.querySelector('tr[aria-selected="true"]') || tbody.querySelector("tr");
  if (focusable) focusable.tabIndex = 0;
  $("#empty").hidden = state.rows.length > 0;
  $("#more").hidden = !state.cursor;
  // A training agency's audits: reviewed like any, marked, and never exported (the service refuses).
  $("#training-note").hidden = body.training !== true;
  for (const id of ["#export-list-csv", "#export-list-json", "#export-call-csv", "#export-call-json"]) $(id).disabled = body.training === true;
  for (const id of ["#print-list", "#print-call"]) $(id).hidden = body.training === true; // printed from the JSON export
  const c = body.counts;
  $("#counts").textContent = `${body.total} shown of ${c.calls} calls · ${c.missed} missed · ${c.unreviewed} not reviewed · ${c.unsigned} not signed off · ${c.population} in population`;
  $("#sampled").hidden = !body.sample;
  $("#sampled").textContent = body.sample ? `${sampleText(body.sample)}.` : "";
  $("#s-clear").hidden = !state.sample;
  const names = new Set(state.rows.map((r) => r.telecommunicator).filter(Boolean));
  $("#telecommunicators").replaceChildren(...[...names].sort().map((n) => el("option", { value: n })));
}

function failed(err, where) {
  if (err instanceof HttpError && err.status === 401) return signOut(SESSION_ENDED);
  $(where).textContent = err instanceof HttpError ? `Refused: ${err.message}` : "The service could not be reached; try again.";
  if (where === "#counts") $("#s-clear").hidden = !state.sample; // a refused sample can be dropped
  return null;
}

// -- keyboard navigation of the list -------------------------------------------------------------
function moveTo(tr) {
  if (!tr) return;
  for (const other of $("#audits tbody").querySelectorAll("tr")) other.tabIndex = -1;
  tr.tabIndex = 0;
  tr.focus();
}

$("#audits tbody").addEventListener("keydown", (e) => {
  const tr = e.target.closest("tr");
  if (!tr) return;
  const rows = [...$("#audits tbody").querySelectorAll("tr")];
  const moves = { ArrowDown: tr.nextElementSibling, ArrowUp: tr.previousElementSibling, Home: rows[0], End: rows[rows.length - 1] };
  if (e.key in moves) { e.preventDefault(); moveTo(moves[e.key]); }
  else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openCall(tr.dataset.callId, { focus: true }); }
});
$("#audits tbody").addEventListener("click", (e) => {
  const tr = e.target.closest("tr");
  if (tr) { moveTo(tr); openCall(tr.dataset.callId); }
});
$("#audit-pane").addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || e.target.matches("input, textarea, select")) return;
  moveTo($("#audits tbody tr[aria-selected='true']") || $("#audits tbody tr"));
});

// -- one audit and its review form ---------------------------------------------------------------
async function openCall(callId, { focus = false } = {}) {
  state.selected = callId;
  for (const tr of $("#audits tbody").querySelectorAll("tr")) tr.setAttribute("aria-selected", String(tr.dataset.callId === callId));
  remember();
  const agency = $("#f-agency").value;
  let audit;
  try {
    audit = await api(`/api/v1/calls/${encodeURIComponent(agency)}/${encodeURIComponent(callId)}/audit`);
  } catch (err) {
    $("#placeholder").hidden = false;
    return failed(err, "#placeholder");
  }
  if (state.selected !== callId) return; // another call was opened meanwhile
  state.audit = audit;
  $("#placeholder").hidden = true;
  $("#audit").replaceChildren(renderAudit(audit, { headingId: "audit-title" }));
  $("#audit-actions").hidden = false;
  $("#print-call").href = `qi-print.html?${new URLSearchParams({ agency, call_id: callId })}`;
  fillForm(audit);
  if (focus) $("#audit-title").focus();
}

function reasonBoxes(fieldset, name, codes, chosen, suggested) {
  const boxes = codes.map((code) => el("label", { class: "check" },
    el("input", { type: "checkbox", name, value: code, checked: chosen.includes(code) }),
    ` ${human(code)}`, suggested.has(code) ? el("span", { class: "tag suggested", text: "suggested" }) : null));
  fieldset.querySelector(".reasons").replaceChildren(...boxes);
  // Anything not a code is free text (the form writes it with the prefix; an API client may not).
  const prefix = state.reasons.free_text_prefix;
  const other = chosen.filter((r) => !codes.includes(r));
  fieldset.querySelector("input[name$='_other']").value = other.map((r) => (r.startsWith(prefix) ? r.slice(prefix.length) : r).trim()).join("; ");
}

// For each moment: the input shows the time in force on the original's clock; the recorded time
// stays visible beside it. A moment never recorded is written on T0's clock.
function correctionRows(audit) {
  const t0Offset = (parts(audit.t0) || { offset: "+00:00" }).offset;
  return MOMENTS.map(([name, kind, label]) => {
    const corrected = kind in audit.corrections;
    const original = corrected ? audit.original_times[kind] : audit.timestamps[name];
    const offset = (parts(original) || { offset: t0Offset }).offset;
    const inForce = audit.timestamps[name];
    const input = el("input", {
      type: "datetime-local", step: "1", id: `c-${name}`, "data-kind": kind, "data-offset": offset,
      "data-baseline": original ? wallIn(original, offset) : "", value: inForce ? wallIn(inForce, offset) : "",
    });
    return el("div", { class: `correction${corrected ? " corrected" : ""}` },
      el("label", { for: `c-${name}`, text: label }), input,
      el("span", { class: "zone", text: offset }),
      el("span", { class: "recorded", "data-recorded": kind, text: original ? `recorded ${wallIn(original, offset).replace("T", " ")}` : "not recorded" }));
  });
}

function fillForm(audit) {
  const d = audit.determination;
  const form = $("#review");
  form.hidden = false;
  form.reset();
  const rec = d.recognizable == null ? "" : d.recognizable ? "yes" : "no";
  form.querySelector(`input[name="recognizable"][value="${rec}"]`).checked = true;
  const suggested = new Set(audit.suggested_reasons.map((s) => s.reason));
  reasonBoxes($("#nonrecognition"), "nonrecognition", state.reasons.nonrecognition_reasons, d.nonrecognition_reasons, suggested);
  reasonBoxes($("#delay"), "delay", state.reasons.delay_reasons, d.delay_reasons, suggested);
  form.querySelector(".correction-rows").replaceChildren(...correctionRows(audit));
  $("#feedback").value = d.feedback || "";
  $("#notes").value = d.notes || "";
  fillExclusion(audit);
  const readOnly = !state.me.may_review;
  $("#review-readonly").hidden = !readOnly;
  for (const control of form.querySelectorAll("input, textarea, button")) control.disabled = readOnly;
}

// The exclusion to judge (T-CPR not given, no first compression), prefilled from the review in
// force; the fieldset is hidden (and nothing is posted) when the call has no exclusion.
function fillExclusion(audit) {
  const tcpr = audit.tcpr;
  $("#exclusion").hidden = !tcpr.excluded;
  $("#exclusion-error").textContent = "";
  for (const radio of $("#exclusion").querySelectorAll("input")) radio.removeAttribute("aria-invalid");
  if (!tcpr.excluded) return;
  $("#exclusion-what").textContent = `T-CPR ${notGiven(tcpr)}. No directed first compression: the call is excluded from the T-CPR rate if the exclusion is valid.`;
  $("#exclusion-rule").textContent = exclusionRule(tcpr.not_given_reason);
  const valid = audit.determination.exclusion_valid;
  const value = valid == null ? "" : String(valid);
  $("#exclusion").querySelector(`input[name="exclusion_valid"][value="${value}"]`).checked = true;
}

function chosenReasons(fieldset, name) {
  const codes = [...fieldset.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  const other = fieldset.querySelector("input[name$='_other']").value.trim();
  return other ? codes.concat(`${state.reasons.free_text_prefix} ${other}`) : codes;
}

function corrections() {
  const out = {};
  for (const input of $("#review").querySelectorAll(".correction-rows input")) {
    let value = input.value;
    if (!value) continue;
    if (value.length === 16) value += ":00"; // the input drops zero seconds
    if (value !== input.dataset.baseline) out[input.dataset.kind] = value + input.dataset.offset;
  }
  return out;
}

async function submitReview(e) {
  e.preventDefault();
  const signOff = e.submitter && e.submitter.value === "sign-off";
  const status = $("#review-status");
  const reviewer = $("#reviewer").value.trim();
  if (!reviewer) {
    status.textContent = "Enter your reviewer ID (top right) first; it is remembered.";
    $("#reviewer").focus();
    return;
  }
  const audit = state.audit;
  const rec = $("#review").querySelector('input[name="recognizable"]:checked').value;
  const corrected = corrections();
  // A first compression typed in from the recording ends the exclusion: nothing left to judge.
  const excluded = audit.tcpr.excluded && !("tcpr.first_compression" in corrected);
  const judged = $("#exclusion").querySelector('input[name="exclusion_valid"]:checked').value;
  if (signOff && excluded && judged === "") {
    $("#exclusion-error").textContent = "Accept or reject the T-CPR exclusion before signing off (Save draft may leave it open).";
    for (const radio of $("#exclusion").querySelectorAll("input")) radio.setAttribute("aria-invalid", "true");
    status.textContent = "Not signed off.";
    $("#exclusion").querySelector('input[name="exclusion_valid"]').focus();
    return;
  }
  const data = {
    recognizable: rec === "" ? null : rec === "yes",
    nonrecognition_reasons: chosenReasons($("#nonrecognition"), "nonrecognition"),
    delay_reasons: chosenReasons($("#delay"), "delay"),
    corrections: corrected,
    feedback: $("#feedback").value.trim() || null,
    notes: $("#notes").value.trim() || null,
    signed_off: signOff,
  };
  if (excluded && judged !== "") data.exclusion_valid = judged === "true";
  const at = localIso(new Date(Date.now() + state.clockOffsetMs)); // by the service's clock
  const event = {
    event_id: `qi-${crypto.randomUUID()}`, call_id: audit.call_id, agency: audit.agency,
    kind: "qi.review", at, source: "qi", actor: reviewer, data,
  };
  status.textContent = "Saving…";
  try {
    await api("/api/v1/events", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(event) });
  } catch (err) {
    status.textContent = err instanceof HttpError ? `Not saved: ${err.message}` : "Not saved: the service could not be reached.";
    return;
  }
  await openCall(audit.call_id);
  const inForce = state.audit && state.audit.determination;
  if (inForce && Date.parse(inForce.reviewed_at) !== Date.parse(at)) {
    status.textContent = "Saved, but a review with a later time is in force (check this computer's clock).";
  } else {
    status.textContent = `${signOff ? "Signed off" : "Draft saved"} at ${new Date().toLocaleTimeString()}. ${reviewStatus(inForce).text}.`;
  }
  await loadList();
}

// -- start ---------------------------------------------------------------------------------------
function signOut(message) {
  offerSignOut(false, signOut);
  $("#me").textContent = "";
  // The next sign-in on this workstation is somebody else, perhaps: not signed in this name.
  $("#reviewer").readOnly = false;
  $("#reviewer").title = "";
  $("#reviewer").value = localStorage.getItem("tcpr-reviewer") || "";
  $("#layout").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message || "";
  $("#token").focus();
}

async function loadReasons() {
  state.reasons = await api(`/api/v1/qi/reasons?${new URLSearchParams({ agency: $("#f-agency").value })}`);
}

async function start() {
  let me;
  try {
    me = await api("/api/v1/qi/me");
  } catch (err) {
    return signOut(err instanceof HttpError && err.status === 401 ? "Sign in with a QI or supervisor token." : "The service could not be reached.");
  }
  state.me = me;
  // A review's time decides which is in force (the latest): stamped by the service's clock.
  state.clockOffsetMs = me.server_time ? Date.parse(me.server_time) - Date.now() : 0;
  // A named sign-in signs its reviews in its own name; a token issued without one types it.
  if (me.reviewer) {
    $("#reviewer").value = me.reviewer;
    $("#reviewer").readOnly = true;
    $("#reviewer").title = "Reviews are signed in the name you signed in with";
  }
  // The measures are for QI staff: a supervisor's token could not read them.
  $('nav a[href="measures.html"]').hidden = me.may_read_measures === false;
  offerSignOut(true, () => signOut("Signed out."));
  $("#me").textContent = `${me.role}${me.name ? ` · ${me.name}` : ""}`;
  const wanted = restore();
  const training = new Set(me.training_agencies || []);
  $("#f-agency").replaceChildren(...me.agencies.map((a) => el("option", { value: a, text: training.has(a) ? `${a} (training)` : a })));
  if (wanted.agency && me.agencies.includes(wanted.agency)) $("#f-agency").value = wanted.agency;
  $("#signin").hidden = true;
  $("#layout").hidden = false;
  try {
    await loadReasons();
  } catch (err) {
    return failed(err, "#counts");
  }
  await loadList();
  if (wanted.call) await openCall(wanted.call);
}

$("#reviewer").value = localStorage.getItem("tcpr-reviewer") || "";
$("#reviewer").addEventListener("change", () => localStorage.setItem("tcpr-reviewer", $("#reviewer").value.trim()));
$("#filters").addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
$("#filters").addEventListener("change", async (e) => {
  if (e.target.id === "f-agency") { await loadReasons().catch((err) => failed(err, "#counts")); state.selected = null; }
  if (e.target.id !== "f-telecommunicator") loadList();
});
$("#more").addEventListener("click", () => loadList({ append: true }));
$("#debriefs-list").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-call-id]");
  if (button) openCall(button.dataset.callId, { focus: true });
});
$("#sample").addEventListener("submit", drawSample);
$("#s-clear").addEventListener("click", wholeList);
$("#s-seed").value = randomSeed();
$("#exclusion").addEventListener("change", () => {
  $("#exclusion-error").textContent = "";
  for (const radio of $("#exclusion").querySelectorAll("input")) radio.removeAttribute("aria-invalid");
});
$("#review").addEventListener("submit", submitReview);
const exportList = (ext) => download(`/api/v1/exports/audits.${ext}?${filterParams()}`).catch((err) => failed(err, "#counts"));
const exportCall = (ext) => download(`/api/v1/exports/audits.${ext}?${new URLSearchParams({ agency: $("#f-agency").value, call_id: state.selected })}`)
  .catch((err) => failed(err, "#review-status"));
$("#export-list-csv").addEventListener("click", () => exportList("csv"));
$("#export-list-json").addEventListener("click", () => exportList("json"));
$("#export-call-csv").addEventListener("click", () => exportCall("csv"));
$("#export-call-json").addEventListener("click", () => exportCall("json"));
$("#signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await openSession(readTokenInput());
  } catch (err) {
    return signOut(err.message);
  }
  start();
});
window.tcpr = { state, loadList, openCall };

// A link's token opens a session first; then /api/v1/qi/me says whether this browser is signed in.
resumeSession().then(({ me, reason }) => (me ? start() : signOut(reason)));
