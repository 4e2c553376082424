// Telecommunicator panel: one big card at a time, answered from the keyboard. Every action is a
// console event stored through the API; the card moves on only when the store's update arrives,
// so the panel never shows a state the store does not have.
"use strict";

const $ = (sel) => document.querySelector(sel);
const RECOGNIZED_PHASES = new Set(["recognized", "tcpr_instructions", "compressions"]);
const VARIANTS = ["adult", "child", "infant"];
const REASONS = ["cpr_in_progress", "caller_unable", "cannot_position", "caller_refused", "unsafe", "hung_up", "other"];

let prompts = null;
let language = localStorage.getItem("tcpr-language") || "en";
let focusId = null;
let reasonPicker = false;
const steps = new Map();      // call_id -> current instruction step (this console's own place)
const variants = new Map();   // call_id -> adult | child | infant
const metronomeOff = new Set(); // calls whose metronome the telecommunicator stopped

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

async function loadPrompts(lang) {
  const response = await fetch(`prompts/${lang}.json`);
  if (!response.ok) throw new Error(`no prompts for ${lang}`);
  prompts = await response.json();
  language = lang;
  localStorage.setItem("tcpr-language", lang);
  document.documentElement.lang = lang;
  render();
}

function t(path) {
  return path.split(".").reduce((node, key) => (node && node[key] !== undefined ? node[key] : undefined), prompts) ?? path;
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
function orderedCalls() {
  const me = live.me && live.me.name;
  return live.liveCalls().sort((a, b) => {
    const mine = (b.telecommunicator === me) - (a.telecommunicator === me);
    return mine || Date.parse(b.t0) - Date.parse(a.t0);
  });
}

function focused() {
  const call = focusId && live.calls.get(focusId);
  if (call && (call.live || call.call_id === focusId)) return call;
  const first = orderedCalls()[0];
  focusId = first ? first.call_id : null;
  return first || null;
}

function move(delta) {
  const calls = orderedCalls();
  if (!calls.length) return;
  const at = Math.max(0, calls.findIndex((c) => c.call_id === focusId));
  focusId = calls[(at + delta + calls.length) % calls.length].call_id;
  reasonPicker = false;
}

// -- actions ----------------------------------------------------------------------------------
function pending(call, kind) { return outbox.pendingFor(call.call_id).some((e) => e.kind === kind); }

function answer(call, value) {
  if (call.phase === "ask_conscious") outbox.post(call, "triage.conscious", { answer: value });
  else if (call.phase === "ask_breathing") outbox.post(call, "triage.breathing", { answer: value });
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

function nextStep(call, delta) {
  if (!RECOGNIZED_PHASES.has(call.phase)) return;
  if (!call.tcpr_started_at) {
    if (!pending(call, "tcpr.started")) outbox.post(call, "tcpr.started", { variant: variantOf(call) });
    steps.set(call.call_id, 0);
    return;
  }
  const last = t(`steps.${variantOf(call)}`).length - 1;
  steps.set(call.call_id, Math.min(last, Math.max(0, (steps.get(call.call_id) || 0) + delta)));
}

function firstCompression(call) {
  if (RECOGNIZED_PHASES.has(call.phase) && !call.first_compression_at && !pending(call, "tcpr.first_compression")) {
    outbox.post(call, "tcpr.first_compression");
  }
}

function notGiven(call, reason) {
  if (RECOGNIZED_PHASES.has(call.phase) && !call.not_given_reason) outbox.post(call, "tcpr.not_given", { reason });
  reasonPicker = false;
}

function variantOf(call) { return variants.get(call.call_id) || "adult"; }

// -- alerts and the metronome ----------------------------------------------------------------
function activeAlert(call) {
  const names = call.alerts || [];
  if (!call.recognized && !call.ruled_out) return names.filter((n) => n.startsWith("recognition")).pop();
  if (call.recognized && !call.first_compression_at && !call.not_given_reason) {
    return names.filter((n) => n.startsWith("compression")).pop();
  }
  return undefined;
}

function alerted(msg) {
  const call = live.calls.get(msg.call_id);
  const me = live.me && live.me.name;
  if (msg.call_id === focusId || (call && call.telecommunicator === me)) {
    soundAlert(metronome.ensureContext());
  }
}

function banner(text, cls) {
  const el = $("#alert-banner");
  el.hidden = !text;
  el.textContent = text || "";
  el.className = cls || "";
}

function beat() {
  const el = $("#metronome-beat");
  el.classList.add("on");
  setTimeout(() => el.classList.remove("on"), 90);
}

function driveMetronome(call) {
  const wanted = call && call.live && ["tcpr_instructions", "compressions"].includes(call.phase) && !metronomeOff.has(call.call_id);
  if (wanted && !metronome.running) metronome.start();
  if (!wanted && metronome.running) metronome.stop();
  $("#metronome-rate").textContent = metronome.bpm;
  $("#metronome-state").textContent = metronome.running ? "on" : "off";
}

// -- rendering --------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function renderCalls() {
  $("#calls").replaceChildren(...orderedCalls().map((call) => {
    const breach = activeAlert(call);
    return el("li", {
      "data-call-id": call.call_id,
      class: [call.call_id === focusId ? "focus" : "", breach ? "breach" : ""].join(" "),
      onclick: () => { focusId = call.call_id; render(); },
    }, el("div", {}, call.call_id), el("div", { class: "sub" }, `${t(`phases.${call.phase}`)} · ${call.telecommunicator || "—"}`));
  }));
}

function renderClocks(call) {
  const set = (id, state) => { const node = $(id); node.textContent = state.text; node.className = `clock ${state.cls}`; };
  if (!call) { set("#clock-recognition", { text: "—", cls: "" }); set("#clock-compression", { text: "—", cls: "" }); return; }
  set("#clock-recognition", clockState(live, call, call.recognized_at, "recognition_due", "recognition_overdue"));
  set("#clock-compression", call.recognized
    ? clockState(live, call, call.first_compression_at, "compression_due", "compression_overdue")
    : { text: "—", cls: "" });
}

function answerButtons(call) {
  return ["yes", "no", "unsure"].map((value) => el("button", { type: "button", "data-answer": value, onclick: () => answer(call, value) },
    el("kbd", {}, value[0].toUpperCase()), t(`answers.${value}`)));
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
  $("#steps").hidden = true;
  $("#reasons").hidden = true;
  if (!call) { title.textContent = t("no_call"); return; }
  switch (call.phase) {
    case "ask_conscious":
    case "ask_breathing": {
      const question = call.phase === "ask_conscious" ? "conscious" : "breathing";
      title.textContent = t(`questions.${question}`);
      body.textContent = t(`question_hints.${question}`);
      answers.append(...answerButtons(call));
      break;
    }
    case "ruled_out":
      title.textContent = t("ruled_out");
      answers.append(el("button", { type: "button", onclick: () => reopen(call) }, el("kbd", {}, "R"), t("reopen")));
      break;
    case "recognized":
    case "tcpr_instructions":
    case "compressions": {
      card.className = "arrest";
      const list = t(`steps.${variantOf(call)}`);
      const current = call.tcpr_started_at ? (steps.get(call.call_id) || 0) : -1;
      title.textContent = current < 0 ? t("recognized") : list[current];
      body.textContent = `${t("tcpr_title")} · ${t(`variants.${variantOf(call)}`)}`;
      if (!call.tcpr_started_at) answers.append(el("button", { type: "button", onclick: () => nextStep(call, 1) }, el("kbd", {}, "Space"), t("tcpr_title")));
      if (!call.first_compression_at) answers.append(el("button", { type: "button", onclick: () => firstCompression(call) }, el("kbd", {}, "C"), t("first_compression")));
      answers.append(el("button", { type: "button", onclick: () => { reasonPicker = !reasonPicker; render(); } }, el("kbd", {}, "X"), t("not_given")));
      const stepsEl = $("#steps");
      stepsEl.hidden = false;
      stepsEl.replaceChildren(...list.map((text, i) => el("li", { class: i < current ? "done" : i === current ? "current" : "" }, text)));
      if (reasonPicker) {
        const reasons = $("#reasons");
        reasons.hidden = false;
        reasons.replaceChildren(...REASONS.map((reason, i) => el("button", { type: "button", "data-reason": reason, onclick: () => notGiven(call, reason) },
          el("kbd", {}, String(i + 1)), t(`not_given_reasons.${reason}`))));
      }
      break;
    }
    case "tcpr_not_given":
      title.textContent = `${t("not_given")}: ${t(`not_given_reasons.${call.not_given_reason}`)}`;
      break;
    case "ended":
      title.textContent = t("phases.ended");
      break;
    default:
      title.textContent = t(`phases.${call.phase}`);
  }
  const waiting = outbox.pendingFor(call.call_id).length;
  $("#card-pending").hidden = !waiting;
  $("#card-pending").textContent = waiting ? `${t("sending")} (${waiting})` : "";
}

function render() {
  if (!prompts) return;
  const call = focused();
  $("#who").textContent = live.me ? `${live.me.name || live.me.role} · ${live.me.agencies.join(", ")}` : "";
  $("#language").textContent = language.toUpperCase();
  $("#label-recognition").textContent = t("clocks.recognition");
  $("#label-compression").textContent = t("clocks.compression");
  $("#metronome-title").textContent = t("metronome");
  $("#variant").textContent = call ? t(`variants.${variantOf(call)}`) : "—";
  $("#call-id").textContent = call ? call.call_id : "—";
  $("#nature").textContent = call && call.nature.code ? `${call.nature.code} ${call.nature.text || ""}` : "";
  $("#phase").textContent = call ? t(`phases.${call.phase}`) : "";
  renderCalls();
  renderClocks(call);
  renderCard(call);
  const alert = call && activeAlert(call);
  if (alert) banner(t(`alerts.${alert}`), alert.endsWith("_due") ? "due" : "");
  else if (!$("#alert-banner").textContent.startsWith("Refused")) banner("");
  $("#keys").replaceChildren(...Object.values(t("keys")).map((text) => el("li", {}, text)));
  driveMetronome(call);
}

// -- keyboard ---------------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
  metronome.ensureContext(); // a key press is the user gesture that lets audio start
  const call = focused();
  const key = e.key.toLowerCase();
  if (key === "[" || key === "]") move(key === "]" ? 1 : -1);
  else if (key === "l") loadPrompts(language === "en" ? "es" : "en");
  else if (!call) return;
  else if (reasonPicker && /^[1-7]$/.test(key)) notGiven(call, REASONS[Number(key) - 1]);
  else if (key === "escape") reasonPicker = false;
  else if (key === "y") answer(call, "yes");
  else if (key === "n") answer(call, "no");
  else if (key === "u") answer(call, "unsure");
  else if (key === "a") declareArrest(call);
  else if (key === "r") reopen(call);
  else if (key === " " || key === "enter") nextStep(call, 1);
  else if (key === "backspace") nextStep(call, -1);
  else if (key === "c") firstCompression(call);
  else if (key === "x") reasonPicker = RECOGNIZED_PHASES.has(call.phase) && !reasonPicker;
  else if (key === "v") variants.set(call.call_id, VARIANTS[(VARIANTS.indexOf(variantOf(call)) + 1) % VARIANTS.length]);
  else if (key === "m") {
    if (metronome.running) { metronome.stop(); metronomeOff.add(call.call_id); } else { metronomeOff.delete(call.call_id); metronome.start(); }
  } else if (key === "+" || key === "=") metronome.setRate(metronome.bpm + 2);
  else if (key === "-") metronome.setRate(metronome.bpm - 2);
  else return;
  e.preventDefault();
  render();
});

$("#language").addEventListener("click", () => loadPrompts(language === "en" ? "es" : "en"));
function askToSignIn(reason) {
  offerSignOut(false, askToSignIn);
  $("#signin-reason").textContent = reason || "Sign in with your telecommunicator token.";
  $("#signin").hidden = false;
  status_("signed-out", "");
  $("#token").focus();
}

const signedIn = signInForLive(live, askToSignIn);
setInterval(() => { if (prompts) { const call = focused(); renderClocks(call); } }, 200);

// Exposed for operators' consoles and the browser tests.
window.tcpr = { live, outbox, metronome };

loadPrompts(language).then(resumeSession).then(({ me, reason }) => (me ? signedIn() : askToSignIn(reason)));
