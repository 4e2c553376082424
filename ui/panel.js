// Telecommunicator panel: one big card at a time, answered from the keyboard. Every action is a
// console event stored through the API; the card moves on only when the store's update arrives,
// so the panel never shows a state the store does not have.
//
// The texts are the T-CPR protocol pack in force for the focused call's agency (GET
// /api/v1/protocols), the one its medical director signed; `tcpr.started` names it. Until that
// pack has come (not signed in yet, or the request failed) the public shipped sample texts show.
"use strict";

const $ = (sel) => document.querySelector(sel);
const RECOGNIZED_PHASES = new Set(["recognized", "tcpr_instructions", "compressions"]);
const VARIANTS = ["adult", "child", "infant"];
// X's reasons. CPR a bystander or professional had already begun is B, a key of its own.
const REASONS = ["caller_unable", "cannot_position", "caller_refused", "unsafe", "hung_up", "other"];
// The key legend, most urgent first; any other key a pack has comes after.
const STUCK_MS = 4000; // an action not yet stored after this long is shown as stuck
const KEY_ORDER = ["answer", "verify", "arrest", "reopen", "next", "back", "compression", "cpr_in_progress",
  "not_given", "aed", "asphyxial", "variant", "metronome", "calls", "language"];
const HINT_MS = 4000;
const RETRY_MS = 5000;

let prompts = null;       // the texts shown now (the focused call's pack, else the public sample)
let publicTexts = null;   // {language, texts}: the shipped sample, readable before signing in
let language = localStorage.getItem("tcpr-language") || "en";
let focusId = null;
let focusChosen = false;  // the telecommunicator picked the focused call ([ ], a click)
let reasonPicker = false;
let hint = null;          // {callId, text, until}: a short refusal shown on the card
const packs = new Map();  // `${agency}|${language}` -> {state: loading|ok|missing|failed, at, pack}
const shownPack = new Map(); // agency -> the pack last shown for it (kept while another loads)
// This console's own place in each call's script, kept for the tab (sessionStorage) so a reload
// mid-call comes back to the same step and the same drowning / AED marks.
const kept = JSON.parse(sessionStorage.getItem("tcpr-script") || "{}");
const steps = new Map(kept.steps || []); // call key -> current instruction step
const variants = new Map(kept.variants || []); // call key -> adult | child | infant (V)
const aedArrived = new Set(kept.aed || []); // calls where an AED has arrived (E): its line is read
const asphyxial = new Set(kept.asphyxial || []); // calls marked drowning / asphyxial (D)

function keepScript() {
  sessionStorage.setItem("tcpr-script", JSON.stringify({
    steps: [...steps], aed: [...aedArrived], asphyxial: [...asphyxial], variants: [...variants],
    metronomeOff: [...metronomeOff],
  }));
}
const metronomeOff = new Set(kept.metronomeOff || []); // calls whose metronome was stopped (M)

const live = new Live({
  onChange: () => render(),
  onAlert: (msg) => alerted(msg),
  onStatus: (status, reason) => status_(status, reason),
  onSignedOut: (reason) => askToSignIn(reason),
});
const outbox = new Outbox(live, {
  onChange: () => render(),
  onRefused: (event, detail) => banner(`Refused ${event.kind}: ${detail}`, "late"),
});
const metronome = new Metronome({ onBeat: () => beat() });
// My reviews (reviews.js): read between calls only; a call that needs this console closes it.
const reviews = new MyReviews({ live, outbox, blocking: () => callsNeedingMe(), onChange: () => render() });

// -- protocol packs -----------------------------------------------------------------------------
// The shipped sample texts (public): what shows before the agency's pack has come.
async function loadPublic(lang) {
  const response = await fetch(`prompts/${encodeURIComponent(lang)}.json`);
  if (!response.ok) {
    if (lang !== "en") return loadPublic("en");
    throw new Error(`no prompts for ${lang}`);
  }
  publicTexts = { language: lang, texts: await response.json() };
  render();
}

// The pack in force for `agency` in `lang`: fetched once, then kept (a director's new version is
// put into service by a restart, so a panel reload picks it up).
function ensurePack(agency, lang) {
  const key = `${agency}|${lang}`;
  const known = packs.get(key);
  if (known && (known.state !== "failed" || Date.now() - known.at < RETRY_MS)) return known;
  if (!live.signedIn) return known;
  const entry = { state: "loading", at: Date.now() };
  packs.set(key, entry);
  const query = new URLSearchParams({ agency, language: lang });
  fetch(`/api/v1/protocols?${query}`, { credentials: "same-origin" })
    .then(async (response) => {
      if (response.status === 401) { packs.delete(key); live.signedOut(SESSION_ENDED); return; }
      if (response.ok) packs.set(key, { state: "ok", at: Date.now(), pack: await response.json() });
      else if (response.status < 500) packs.set(key, { state: "missing", at: Date.now() });
      else throw new Error(`${response.status}`);
      render();
    })
    .catch(() => {
      packs.set(key, { state: "failed", at: Date.now() });
      setTimeout(render, RETRY_MS); // render asks again
    });
  return entry;
}

// The pack to show for a call of `agency`: the chosen language's, else English (an agency with
// no pack in that language), else the one shown until now (while another loads), else null.
function packFor(agency) {
  if (!agency || !live.signedIn) return null;
  let entry = ensurePack(agency, language);
  if (entry && entry.state === "missing" && language !== "en") entry = ensurePack(agency, "en");
  if (entry && entry.state === "ok") {
    shownPack.set(agency, entry.pack);
    return entry.pack;
  }
  return shownPack.get(agency) || null;
}

function agencyOf(call) {
  if (call) return call.agency;
  return live.me && live.me.agencies.length ? live.me.agencies[0] : null;
}

function textsFor(agency) {
  const pack = packFor(agency);
  if (pack) return pack.texts;
  return publicTexts ? publicTexts.texts : null;
}

function switchLanguage() {
  const pack = packFor(agencyOf(focused()));
  const languages = pack && pack.languages.length ? pack.languages : ["en", "es"];
  const current = pack ? pack.manifest.language : language;
  language = languages[(languages.indexOf(current) + 1) % languages.length];
  localStorage.setItem("tcpr-language", language);
  loadPublic(language).catch(() => {});
  render();
}

function t(path) {
  return path.split(".").reduce((node, key) => (node && node[key] !== undefined ? node[key] : undefined), prompts) ?? path;
}

function fill(text, values) { return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m)); }

// A key legend line without its key ("E AED arrived" -> "AED arrived"), for the key's button.
function keyLabel(name, key) {
  const text = t(`keys.${name}`);
  return text.startsWith(`${key} `) ? text.slice(key.length + 1) : text;
}

function status_(status, reason) {
  const el = $("#status");
  el.className = `status ${status}`;
  el.textContent = status === "live" ? t("live") : status === "reconnecting" ? t("reconnecting") : `signed out ${reason || ""}`;
  const lost = $("#connection");
  lost.hidden = status !== "reconnecting";
  lost.textContent = t("connection_lost");
}

// -- which call -------------------------------------------------------------------------------
// Outside the agency's alert scope (a police call where alerts are for medical calls): listed
// apart, racing nothing, never focused ahead of a call in scope. A call with no nature code yet is
// out of scope too (no alerts until it is medical or the script is opened), but it may be an
// arrest in its first seconds: it stays in the list, marked, never tucked away.
function inScope(call) { return call.in_scope !== false; }
function apart(call) { return !inScope(call) && Boolean(call.nature && call.nature.code); }
function listed(call) { return !apart(call); }

function orderedCalls() {
  const me = live.me && live.me.name;
  // A call being coached (instructions or compressions under way) stays ahead of newer ones:
  // after a reload the panel comes back to the caller doing CPR.
  const coaching = (c) => Boolean(c.tcpr_started_at) && !c.not_given_reason;
  return live.liveCalls().sort((a, b) => {
    const scope = listed(b) - listed(a);
    const mine = (b.telecommunicator === me) - (a.telecommunicator === me);
    const cpr = coaching(b) - coaching(a);
    return scope || mine || cpr || Date.parse(b.t0) - Date.parse(a.t0);
  });
}

// The live calls that keep My reviews closed: listed ones that are mine, that nobody has answered
// yet (the next may be mine), or that are alerting. A colleague's call going well, or a call set
// apart (not medical), does not keep a telecommunicator from reading their reviews.
function callsNeedingMe() {
  const me = live.me && live.me.name;
  return orderedCalls().filter((c) => listed(c) && (c.telecommunicator === me || !c.telecommunicator || activeAlert(c)));
}

function toggleReviews() {
  const refused = reviews.toggle();
  const call = focused();
  if (refused && call) showHint(call, refused);
  reasonPicker = false;
}

// The call always wins: the view yields at once, and the card is the call that needs me.
function yieldToCalls() {
  const calls = reviews.yieldTo();
  if (!calls) return;
  focusId = callKey(calls[0]);
  focusChosen = false;
  showHint(calls[0], reviews.needing("yielded", calls));
}

// A call that is this console's own: answered by me (a trainee's scenario is answered in the
// trainee's name, so it is theirs too).
function own(call) {
  const me = live.me && live.me.name;
  return Boolean(call && me) && call.telecommunicator === me;
}

const ownSeen = new Set(); // calls seen as mine: a call newly mine takes the card

function focused() {
  const calls = orderedCalls();
  const firstInScope = calls.find(listed); // mine first (orderedCalls)
  const current = focusId && live.calls.get(focusId);
  // An ended call stays on the card only while no live call is waiting: the next caller wins.
  const holds = current && (calls.includes(current) || !calls.length);
  // A call set apart holds the focus only when picked: a listed one takes it otherwise. A call
  // the panel picked by itself gives way to one of my own as soon as there is one: my caller's
  // keys must not land on a colleague's call (or, in training, on a real one).
  // A call newly mine (my caller is on the line) takes it even from a call I chose.
  const fresh = calls.find((c) => own(c) && !ownSeen.has(callKey(c)));
  for (const c of calls) if (own(c)) ownSeen.add(callKey(c));
  if (fresh && !own(current)) {
    focusId = callKey(fresh);
    focusChosen = false;
    return fresh;
  }
  const yields = !focusChosen && !own(current) && own(firstInScope);
  if (holds && !yields && (focusChosen || listed(current) || !firstInScope)) return current;
  const first = firstInScope || calls[0] || null;
  focusId = first ? callKey(first) : null;
  focusChosen = false;
  return first;
}

// [ ] walk the calls in scope, and the others too while their group is open (or nothing else).
function move(delta) {
  const all = orderedCalls();
  const calls = all.some(listed) && !$("#other-calls").open ? all.filter(listed) : all;
  if (!calls.length) return;
  const at = calls.findIndex((c) => callKey(c) === focusId);
  const next = at < 0 ? (delta > 0 ? 0 : calls.length - 1) : (at + delta + calls.length) % calls.length;
  choose(callKey(calls[next]));
}

function choose(callId) {
  focusId = callId;
  focusChosen = true;
  reasonPicker = false;
}

// -- actions ----------------------------------------------------------------------------------
function pending(call, kind) { return outbox.pendingFor(call).some((e) => e.kind === kind); }

// The card moves on only once the store has the answer: until then a second key is not a second
// answer to the same question (it would replace the first, not answer the next one).
function answer(call, value) {
  if (call.phase === "ask_conscious" && !pending(call, "triage.conscious")) {
    outbox.post(call, "triage.conscious", { answer: value });
  } else if (call.phase === "ask_breathing" && !pending(call, "triage.breathing")) {
    outbox.post(call, "triage.breathing", { answer: value });
  }
}

// The caller described the breathing (§3): agonal recognises arrest, normal rules it out.
// G / K at "breathing to verify"; G also at "breathing normally?" itself, when the caller
// already says gasping (recognised at once, the agonal breathing noted for QI). K there would
// skip the describing the verify card asks for: answer Y first.
function verifyBreathing(call, agonal) {
  const asked = call.phase === "verify_breathing" || (agonal && call.phase === "ask_breathing");
  if (!asked || pending(call, "triage.breathing")) return;
  outbox.post(call, "triage.breathing", agonal ? { answer: "no", agonal: true } : { answer: "yes", confirmed: true });
}

function declareArrest(call) {
  if (!call.recognized && !pending(call, "ohca.recognized")) outbox.post(call, "ohca.recognized");
}

function reopen(call) {
  // "Stopped breathing / now unresponsive": both answers are now no, which recognises arrest.
  if (call.phase !== "ruled_out") return;
  outbox.post(call, "triage.conscious", { answer: "no" });
  outbox.post(call, "triage.breathing", { answer: "no" });
}

function started(call) { return Boolean(call.tcpr_started_at) || pending(call, "tcpr.started"); }

function nextStep(call, delta) {
  if (!RECOGNIZED_PHASES.has(call.phase)) return;
  if (!call.tcpr_started_at) {
    if (!pending(call, "tcpr.started")) outbox.post(call, "tcpr.started", startData(call));
    steps.set(callKey(call), 0);
    return;
  }
  const last = stepList(call).length - 1;
  const at = Math.min(last, steps.get(callKey(call)) || 0); // a shorter variant's list since
  steps.set(callKey(call), Math.min(last, Math.max(0, at + delta)));
}

// What `tcpr.started` says: the variant, and the signed pack the caller is coached with.
function startData(call) {
  const pack = packFor(call.agency);
  if (pack) return { variant: variantOf(call), language: pack.manifest.language, protocol: pack.manifest.protocol };
  return { variant: variantOf(call), language: publicTexts ? publicTexts.language : language };
}

// The first compression the telecommunicator directed: only once the instructions have begun.
function firstCompression(call) {
  if (!RECOGNIZED_PHASES.has(call.phase) || call.first_compression_at || pending(call, "tcpr.first_compression")) return;
  if (!started(call)) {
    showHint(call, t("first_compression_after_start"));
    return;
  }
  outbox.post(call, "tcpr.first_compression");
}

// Not given is for a call with no directed compression (DESIGN §4): once the first one is in,
// a caller hanging up is not T-CPR "not given".
function mayNotGive(call) {
  return RECOGNIZED_PHASES.has(call.phase) && !call.not_given_reason && !pending(call, "tcpr.not_given")
    && !call.first_compression_at && !pending(call, "tcpr.first_compression");
}

function notGiven(call, reason) {
  if (mayNotGive(call)) outbox.post(call, "tcpr.not_given", { reason });
  reasonPicker = false;
}

// B: CPR a bystander or professional had already begun, before or during the instructions.
function cprInProgress(call) {
  if (!call.first_compression_at && !pending(call, "tcpr.first_compression")) notGiven(call, "cpr_in_progress");
}

function toggleAed(call) {
  if (!RECOGNIZED_PHASES.has(call.phase)) return;
  if (aedArrived.has(callKey(call))) aedArrived.delete(callKey(call));
  else aedArrived.add(callKey(call));
}

function showHint(call, text) {
  hint = { callId: callKey(call), text, until: Date.now() + HINT_MS };
  setTimeout(render, HINT_MS + 50);
}

// The console's choice, else what `tcpr.started` recorded (a panel reloaded mid-call resumes the
// infant or child script it was on), else adult.
function variantOf(call) { return variants.get(callKey(call)) || call.tcpr_variant || "adult"; }

// The steps read to the caller: the variant's compressions, then rescue breaths where the
// director's decisions enable them: for the child or infant variant, or for a drowning or other
// asphyxial arrest (D) at any age. An adult cardiac arrest stays compression-only.
function rescueBreaths(call) {
  const pack = packFor(call.agency);
  const decisions = (pack && pack.manifest.decisions) || {};
  const variant = variantOf(call);
  return (variant === "child" && decisions.rescue_breaths_child === true)
    || (variant === "infant" && decisions.rescue_breaths_infant === true)
    || (asphyxial.has(callKey(call)) && decisions.rescue_breaths_asphyxial === true);
}

function toggleAsphyxial(call) {
  if (!RECOGNIZED_PHASES.has(call.phase)) return;
  if (asphyxial.has(callKey(call))) asphyxial.delete(callKey(call));
  else asphyxial.add(callKey(call));
}

function stepList(call) {
  const compressions = t(`steps.${variantOf(call)}`);
  return rescueBreaths(call) ? [...compressions, ...t("rescue_breaths.steps")] : compressions;
}

// -- alerts and the metronome ----------------------------------------------------------------
// The latest recognition or compression alert that still stands (live.js `alertStands`).
function activeAlert(call) {
  const names = call.alerts || [];
  return names.filter((n) => !n.startsWith("dispatch") && alertStands(call, n)).pop();
}

function alerted(msg) {
  const call = live.calls.get(callKey(msg));
  const me = live.me && live.me.name;
  if (callKey(msg) === focusId || (call && call.telecommunicator === me)) {
    soundAlert(metronome.ensureContext());
  }
}

// Live regions are rewritten only when their words change, so nothing is announced twice.
function say(node, text) { if (node.textContent !== text) node.textContent = text; }

function banner(text, cls) {
  const el = $("#alert-banner");
  el.hidden = !text;
  say(el, text || "");
  el.className = cls || "";
}

function beat() {
  const el = $("#metronome-beat");
  el.classList.add("on");
  setTimeout(() => el.classList.remove("on"), 90);
}

// The beat runs while compressions are coached, and where a bystander's CPR was already under way
// (B): their rate still needs the beat.
function driveMetronome(call) {
  const coached = call && (["tcpr_instructions", "compressions"].includes(call.phase)
    || (call.phase === "tcpr_not_given" && call.not_given_reason === "cpr_in_progress"));
  const wanted = coached && call.live && !metronomeOff.has(callKey(call));
  if (wanted && !metronome.running) metronome.start();
  if (!wanted && metronome.running) metronome.stop();
  $("#metronome-rate").textContent = metronome.bpm;
  $("#metronome-state").textContent = metronome.running ? "on" : "off";
}

// -- rendering --------------------------------------------------------------------------------

// A console over several real agencies names each call's agency too: their CAD numbers may
// coincide. (A trainee's training agency does not count: its scenarios are numbered apart.)
function callName(call) {
  return live.realAgencies().length > 1 ? `${call.agency} ${call.call_id}` : call.call_id;
}

function callItem(call) {
  const breach = activeAlert(call);
  const sub = [t(`phases.${call.phase}`), call.telecommunicator || "—"];
  if (!inScope(call) && call.nature && call.nature.code) sub.unshift(call.nature.code);
  return el("li", {
    "data-call-id": call.call_id,
    "data-agency": call.agency,
    class: [callKey(call) === focusId ? "focus" : "", breach ? "breach" : "", inScope(call) ? "" : "out"].join(" ").trim(),
    onclick: () => { choose(callKey(call)); render(); },
  }, el("div", {}, callName(call), ...(call.training ? [" ", el("span", { class: "training-tag" }, "TRAINING")] : [])),
  el("div", { class: "sub" }, sub.join(" · ")));
}

function renderCalls(call) {
  const calls = orderedCalls();
  const others = calls.filter(apart);
  $("#calls").replaceChildren(...calls.filter(listed).map(callItem));
  const group = $("#other-calls");
  group.hidden = !others.length;
  if (call && apart(call)) group.open = true; // the focused call is always in sight
  say($("#other-calls-title"), `${t("out_of_scope")} (${others.length})`);
  $("#other-calls-list").replaceChildren(...others.map(callItem));
}

function renderClocks(call) {
  const set = (id, state) => { const node = $(id); node.textContent = state.text; node.className = state.cls ? `clock ${state.cls}` : "clock"; };
  if (!call) { set("#clock-recognition", { text: "—", cls: "" }); set("#clock-compression", { text: "—", cls: "" }); return; }
  // A call out of scope races no benchmark: its clocks count, uncoloured.
  const racing = (state) => (inScope(call) ? state : { ...state, cls: "" });
  set("#clock-recognition", racing(clockState(live, call, call.recognized_at, "recognition_due", "recognition_overdue")));
  set("#clock-compression", call.recognized
    ? racing(clockState(live, call, call.first_compression_at, "compression_due", "compression_overdue"))
    : { text: "—", cls: "" });
}

// Dispatch in parallel (§4): a `no` / `unsure` or an arrest, and no unit yet.
function renderDispatch(call) {
  const node = $("#dispatch");
  const show = Boolean(call && call.live && call.dispatch_alerts && call.needs_dispatch);
  node.hidden = !show;
  if (!show) { say(node, ""); return; }
  const overdue = (call.alerts || []).includes("dispatch_overdue");
  node.className = overdue ? "late" : "";
  say(node, overdue ? `${t("not_dispatched")} · ${t("alerts.dispatch_overdue")}` : t("not_dispatched"));
}

// "CAD feed silent since HH:MM:SS" (local time), for each silent feed, until data flows again.
function renderFeeds() {
  const node = $("#feed-banner");
  const several = live.me && live.me.agencies.length > 1;
  const lines = live.silentFeeds().map((feed) => {
    const text = fill(t("feed_silent"), { time: localTime(feed.last_activity) });
    return several ? `${feed.agency}: ${text}` : text;
  });
  node.hidden = !lines.length;
  say(node, lines.join(" · "));
}

function localTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "—";
  return [when.getHours(), when.getMinutes(), when.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

// A card button is its key: one that records acts on a call that is not mine only once chosen.
function keyButton(key, label, action, attrs = {}) {
  const onclick = () => {
    const call = focused();
    if (call && records(key === "Space" ? " " : key.toLowerCase()) && !mayAct(call)) showHint(call, notYours(call));
    else action();
    render();
  };
  return el("button", { type: "button", ...attrs, onclick }, el("kbd", {}, key), label);
}

function answerButtons(call) {
  return ["yes", "no", "unsure"].map((value) => keyButton(value[0].toUpperCase(), t(`answers.${value}`), () => answer(call, value), { "data-answer": value }));
}

// The signed pack the card's lines come from, and a warning where they are the project's sample.
function renderProtocol(call) {
  const node = $("#card-protocol");
  const pack = packFor(call.agency);
  const sample = !pack || pack.manifest.sample;
  node.replaceChildren(...[
    pack ? el("span", {}, fill(t("protocol"), { protocol: pack.manifest.protocol })) : null,
    sample ? el("span", { class: "sample" }, t("protocol_sample")) : null,
  ].filter(Boolean));
  node.hidden = false;
}

function renderTcpr(call, { title, body, answers }) {
  const card = $("#card");
  card.classList.add("arrest");
  const compressions = t(`steps.${variantOf(call)}`);
  const list = stepList(call);
  const begun = Boolean(call.tcpr_started_at);
  const current = begun ? Math.min(steps.get(callKey(call)) || 0, list.length - 1) : -1;
  title.textContent = current < 0 ? t("recognized") : list[current];
  body.textContent = `${t("tcpr_title")} · ${t(`variants.${variantOf(call)}`)}`;
  if (aedArrived.has(callKey(call))) {
    const aed = $("#card-aed");
    aed.hidden = false;
    aed.textContent = t("aed_arrived");
  }
  if (!begun) answers.append(keyButton("Space", t("tcpr_title"), () => nextStep(call, 1), { class: "primary" }));
  if (begun && !call.first_compression_at) answers.append(keyButton("C", t("first_compression"), () => firstCompression(call), { class: "primary" }));
  if (!call.first_compression_at && mayNotGive(call)) {
    answers.append(keyButton("B", t("not_given_reasons.cpr_in_progress"), () => cprInProgress(call), { "data-key": "b", class: "secondary", title: t("cpr_in_progress") }));
  }
  answers.append(keyButton("E", keyLabel("aed", "E"), () => toggleAed(call), { "data-key": "e", class: "secondary", "aria-pressed": String(aedArrived.has(callKey(call))) }));
  answers.append(keyButton("D", keyLabel("asphyxial", "D"), () => toggleAsphyxial(call), { "data-key": "d", class: "secondary", title: t("asphyxial"), "aria-pressed": String(asphyxial.has(callKey(call))) }));
  if (mayNotGive(call)) answers.append(keyButton("X", t("not_given"), () => { reasonPicker = !reasonPicker; }, { "data-key": "x", class: "secondary" }));
  renderProtocol(call);
  const stepsEl = $("#steps");
  stepsEl.hidden = false;
  stepsEl.replaceChildren(...compressions.map((text, i) => el("li", { class: i < current ? "done" : i === current ? "current" : "" }, text)));
  if (list.length > compressions.length) {
    $("#rescue").hidden = false;
    $("#rescue-title").textContent = t("rescue_breaths.title");
    $("#rescue-steps").replaceChildren(...list.slice(compressions.length).map((text, j) => {
      const i = compressions.length + j;
      return el("li", { class: i < current ? "done" : i === current ? "current" : "" }, text);
    }));
  }
  if (reasonPicker && mayNotGive(call)) {
    const reasons = $("#reasons");
    reasons.hidden = false;
    reasons.replaceChildren(...REASONS.map((reason, i) => keyButton(String(i + 1), t(`not_given_reasons.${reason}`), () => notGiven(call, reason), { "data-reason": reason })));
  }
}

function renderCard(call) {
  const card = $("#card");
  const title = $("#card-title");
  const body = $("#card-body");
  const answers = $("#card-answers");
  card.className = "";
  card.dataset.phase = call ? call.phase : "none";
  answers.replaceChildren();
  body.textContent = "";
  for (const id of ["#steps", "#rescue", "#reasons", "#card-describe", "#card-aed", "#card-protocol", "#card-note", "#card-hint"]) $(id).hidden = true;
  if (!call) { title.textContent = t("no_call"); $("#card-pending").hidden = true; return; }
  if (!inScope(call)) {
    card.classList.add("out");
    $("#card-note").hidden = false;
    $("#card-note").textContent = t(apart(call) ? "out_of_scope" : "awaiting_nature");
  }
  switch (call.phase) {
    case "ask_conscious":
    case "ask_breathing": {
      const question = call.phase === "ask_conscious" ? "conscious" : "breathing";
      title.textContent = t(`questions.${question}`);
      body.textContent = t(`question_hints.${question}`);
      answers.append(...answerButtons(call));
      if (question === "breathing") {
        answers.append(keyButton("G", t("verify.agonal"), () => verifyBreathing(call, true), { "data-verify": "agonal" }));
      }
      break;
    }
    case "verify_breathing": {
      // Not awake, "yes, breathing": the agonal-breathing trap. Calm until an alert fires.
      const alert = activeAlert(call);
      card.classList.add("verify");
      if (alert) card.classList.add(alert.endsWith("_due") ? "due" : "late");
      title.textContent = t("verify.title");
      body.textContent = t("verify.prompt");
      const describe = $("#card-describe");
      describe.hidden = false;
      describe.replaceChildren(...t("verify.describe").map((line) => el("li", {}, line)));
      answers.append(
        keyButton("G", t("verify.agonal"), () => verifyBreathing(call, true), { "data-verify": "agonal", class: "primary" }),
        keyButton("K", t("verify.normal"), () => verifyBreathing(call, false), { "data-verify": "normal" }),
      );
      break;
    }
    case "ruled_out":
      title.textContent = t("ruled_out");
      answers.append(keyButton("R", t("reopen"), () => reopen(call)));
      break;
    case "recognized":
    case "tcpr_instructions":
    case "compressions":
      renderTcpr(call, { title, body, answers });
      break;
    case "tcpr_not_given":
      title.textContent = call.not_given_reason === "cpr_in_progress"
        ? t("cpr_in_progress")
        : `${t("not_given")}: ${t(`not_given_reasons.${call.not_given_reason}`)}`;
      break;
    case "ended":
      title.textContent = t("phases.ended");
      break;
    default:
      title.textContent = t(`phases.${call.phase}`);
  }
  if (hint && hint.callId === callKey(call) && Date.now() < hint.until) {
    $("#card-hint").hidden = false;
    say($("#card-hint"), hint.text);
  } else {
    say($("#card-hint"), "");
  }
  renderPending(call);
}

// The focused call's actions not yet stored; not stored after a few seconds, said loudly, since
// the card waits for the store.
// Keys that record an event on the call. On a colleague's call they act only once that call was
// chosen ([ ] or a click): a stray key must not answer for a caller somebody else is talking to.
const RECORDING_KEYS = new Set(["y", "n", "u", "g", "k", "a", "r", "c", "b", "x", " ", "enter", "backspace"]);
// A key (as `KeyboardEvent.key`, lower case) that records: one of those, or a reason's number
// while X's reasons are open.
function records(key) { return RECORDING_KEYS.has(key) || (reasonPicker && /^[1-9]$/.test(key)); }
function mayAct(call) {
  const me = live.me && live.me.name;
  if (focusChosen || !me || own(call)) return true;
  if (call.telecommunicator) return false; // a colleague's
  // Nobody has answered it yet: whoever picks it up acts at once (the CAD's answer may lag), but
  // a trainee's console acts on a real call only once it is chosen: their keys are for the scenario.
  return call.training === true || !live.me.trainingAgencies.length;
}
const NOT_YOURS = {
  en: { colleague: "{who}'s call: choose it with [ ] or a click to act on it.",
        unanswered: "A real call you have not chosen: choose it with [ ] or a click to act on it." },
  es: { colleague: "Llamada de {who}: elíjala con [ ] o un clic para actuar en ella.",
        unanswered: "Una llamada real que no ha elegido: elíjala con [ ] o un clic para actuar en ella." },
};
function notYours(call) {
  const texts = NOT_YOURS[document.documentElement.lang] || NOT_YOURS.en;
  return fill(call.telecommunicator ? texts.colleague : texts.unanswered, { who: call.telecommunicator });
}

// The browser keeps sound off until a key press or a click on the page (its autoplay rule), so
// after a reload the metronome and the alert tones are silent: said plainly while calls are on.
const SOUND_OFF = {
  en: "Sound is off: press any key or click here for the metronome and alert tones.",
  es: "Sonido apagado: pulse una tecla o haga clic aquí para el metrónomo y los tonos de alerta.",
};
function renderSound() {
  const ctx = metronome.ctx;
  const off = live.liveCalls().length > 0 && !(ctx && ctx.state === "running");
  const node = $("#sound-off");
  node.hidden = !off;
  if (off) node.textContent = SOUND_OFF[document.documentElement.lang] || SOUND_OFF.en;
}

function renderPending(call) {
  const queued = call ? outbox.pendingFor(call) : [];
  const node = $("#card-pending");
  node.hidden = !queued.length;
  node.textContent = queued.length ? `${t("sending")} (${queued.length})` : "";
  const oldest = queued.length ? Date.parse(queued[0].at) : NaN;
  node.classList.toggle("stuck", live.serverNow() - oldest > STUCK_MS);
}

function renderKeys() {
  const keys = t("keys");
  const names = [...KEY_ORDER.filter((k) => k in keys), ...Object.keys(keys).filter((k) => !KEY_ORDER.includes(k))];
  const unread = reviews.unread();
  $("#keys").replaceChildren(...names.map((name) => el("li", { "data-key": name }, keys[name])),
    el("li", { "data-key": "reviews" }, reviews.t("key"), unread ? el("span", { class: "badge" }, String(unread)) : ""));
}

// The focused call, with `prompts` set to the texts of its agency's pack.
function sync() {
  const call = focused();
  if (live.me) for (const agency of live.me.agencies) packFor(agency); // ready before their calls come
  prompts = textsFor(agencyOf(call));
  return call;
}

function render() {
  keepScript();
  reviews.sync();
  yieldToCalls();
  const call = sync();
  if (!prompts) return;
  const pack = packFor(agencyOf(call));
  document.documentElement.lang = pack ? pack.manifest.language : publicTexts.language;
  $("#who").textContent = live.me ? `${live.me.name || live.me.role} · ${live.me.agencies.join(", ")}` : "";
  $("#language").textContent = document.documentElement.lang.toUpperCase();
  $("#label-recognition").textContent = t("clocks.recognition");
  $("#label-compression").textContent = t("clocks.compression");
  $("#metronome-title").textContent = t("metronome");
  $("#variant").textContent = call ? t(`variants.${variantOf(call)}`) : "—";
  $("#call-id").textContent = call ? callName(call) : "—";
  $("#nature").textContent = call && call.nature.code ? `${call.nature.code} ${call.nature.text || ""}` : "";
  $("#phase").textContent = call ? t(`phases.${call.phase}`) : "";
  renderFeeds();
  // A training agency's call (a scenario a trainer plays): said plainly, never mistaken for real.
  $("#training-banner").hidden = !(call && call.training);
  document.body.classList.toggle("training", Boolean(call && call.training));
  renderCalls(call);
  renderClocks(call);
  renderDispatch(call);
  renderCard(call);
  const alert = call && activeAlert(call);
  // On the verify card the questions are answered: the alert says what is left to do.
  const text = alert === "recognition_due" && call.verify_breathing ? t("alerts.recognition_due_verify") : t(`alerts.${alert}`);
  if (alert) banner(text, alert.endsWith("_due") ? "due" : "");
  else if (!$("#alert-banner").textContent.startsWith("Refused")) banner("");
  renderKeys();
  reviews.render($("#reviews"), $("#reviews-button"));
  document.body.classList.toggle("reviewing", reviews.open);
  driveMetronome(reviews.open ? null : call);
}

// -- keyboard ---------------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
  // Enter / Space on the other calls' heading opens it (then the keyboard comes back, below).
  if ((e.key === "Enter" || e.key === " ") && e.target instanceof Element && e.target.closest("summary")) return;
  metronome.ensureContext(); // a key press is the user gesture that lets audio start
  const call = sync();
  if (!prompts) return;
  const key = e.key.toLowerCase();
  if (key === "f") toggleReviews();
  else if (reviews.open && key !== "l") { if (!reviews.key(key)) return; } // no call key acts unseen
  else if (key === "[" || key === "]") move(key === "]" ? 1 : -1);
  else if (key === "l") switchLanguage();
  else if (!call) return;
  else if (records(key) && !mayAct(call)) showHint(call, notYours(call));
  else if (reasonPicker && /^[1-9]$/.test(key) && Number(key) <= REASONS.length) notGiven(call, REASONS[Number(key) - 1]);
  else if (key === "escape") reasonPicker = false;
  else if (key === "y") answer(call, "yes");
  else if (key === "n") answer(call, "no");
  else if (key === "u") answer(call, "unsure");
  else if (key === "g") verifyBreathing(call, true);
  else if (key === "k") verifyBreathing(call, false);
  else if (key === "a") declareArrest(call);
  else if (key === "r") reopen(call);
  else if (key === " " || key === "enter") nextStep(call, 1);
  else if (key === "backspace") nextStep(call, -1);
  else if (key === "c") firstCompression(call);
  else if (key === "b") cprInProgress(call);
  else if (key === "e") toggleAed(call);
  else if (key === "d") toggleAsphyxial(call);
  else if (key === "x") reasonPicker = mayNotGive(call) && !reasonPicker;
  else if (key === "v") variants.set(callKey(call), VARIANTS[(VARIANTS.indexOf(variantOf(call)) + 1) % VARIANTS.length]);
  else if (key === "m") {
    if (metronome.running) { metronome.stop(); metronomeOff.add(callKey(call)); } else { metronomeOff.delete(callKey(call)); metronome.start(); }
  } else if (key === "+" || key === "=") metronome.setRate(metronome.bpm + 2);
  else if (key === "-") metronome.setRate(metronome.bpm - 2);
  else return;
  e.preventDefault();
  render();
});

$("#language").addEventListener("click", () => switchLanguage());
// The button gives the keyboard back at once: Enter is the view's acknowledge key.
$("#reviews-button").addEventListener("click", (e) => { e.currentTarget.blur(); toggleReviews(); render(); });
// Opening or closing the other calls hands the keyboard back to the panel (Space is next step).
$("#other-calls").addEventListener("toggle", () => {
  if (document.activeElement && document.activeElement.closest("#other-calls")) document.activeElement.blur();
});
function askToSignIn(reason) {
  offerSignOut(false, askToSignIn);
  reviews.reset(); // a shared console: no one's reviews stay on screen after they sign out
  render();
  $("#signin-reason").textContent = reason || "Sign in with your telecommunicator token.";
  $("#signin").hidden = false;
  status_("signed-out", "");
  $("#token").focus();
}

const signedIn = signInForLive(live, askToSignIn);
setInterval(() => { const call = sync(); if (prompts) { renderClocks(call); renderPending(call); renderSound(); } }, 200);
document.addEventListener("pointerdown", () => metronome.ensureContext()); // a click is a gesture too

// Exposed for operators' consoles and the browser tests.
window.tcpr = { live, outbox, metronome, packs, reviews };

loadPublic(language).then(resumeSession).then(({ me, reason }) => (me ? signedIn() : askToSignIn(reason)));
