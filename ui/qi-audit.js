// The audit of one call as the QI pages draw it (review page and printable page share this):
// key timestamps with the original beside any correction, intervals against the profile's
// thresholds, recognition, T-CPR, alerts, EMS outcome, suggested reasons, the determination in
// force and the timeline. Times are shown as their source wrote them, with that offset.
import { request } from "./http.js";

// The draft's timestamp names and the event kind a `qi.review` correction of each names.
export const MOMENTS = [
  ["call_received", "call.received", "Call connected (T0)"],
  ["call_transferred", "call.transferred", "Transferred"],
  ["call_answered", "call.answered", "Answered"],
  ["recognized", "ohca.recognized", "Arrest recognised"],
  ["tcpr_started", "tcpr.started", "T-CPR instructions begun"],
  ["first_compression", "tcpr.first_compression", "First compression"],
  ["unit_dispatched", "unit.dispatched", "Unit dispatched"],
  ["unit_on_scene", "unit.on_scene", "Unit on scene"],
  ["call_ended", "call.ended", "Call ended"],
];
const INTERVALS = [
  ["to_answer", "To answer", null],
  ["to_recognition", "To recognition", "recognition_s"],
  ["to_dispatch", "To dispatch", null],
  ["to_tcpr_start", "To T-CPR start", null],
  ["to_first_compression", "To first compression", "first_compression_s"],
  ["to_on_scene", "To EMS on scene", null],
];
const PATHS = { question: "by the two questions", direct: "declared by the telecommunicator", nature_code: "by the CAD nature code" };

// Where T0 comes from (the draft's `t0_source`), as the audit says it beside T0.
const T0_SOURCES = {
  "call.received": "T0 is the call's connection (call.received).",
  "call.answered": "T0 from the answer: this call has no call.received, so the ring and transfer time are lost from every interval.",
  correction: "T0 corrected by the review from the recording.",
};
// The marks the list, the audit and the printed page put on a call: short visible text, the
// whole sentence as a tooltip and (hidden) for screen readers. Never colour alone.
const MARKS = {
  "t0-answer": ["T0 from answer", "Measured from the answer: the call has no call.received, so the ring and transfer time are lost from every interval"],
  "after-arrival": ["recognised after EMS arrival", "Recognised at or after the first unit on scene: the crew's recognition, which the measures do not count as the telecommunicator's"],
  "exclusion-open": ["exclusion to judge", "T-CPR not given and no first compression: a reviewer must accept or reject the exclusion"],
  "exclusion-rejected": ["exclusion rejected", "The reviewer rejected the T-CPR exclusion: the call counts in the AHA T-CPR rate"],
  "exclusion-accepted": ["exclusion accepted", "The reviewer accepted the T-CPR exclusion: the call is out of the AHA T-CPR rate"],
};

export { HttpError, download } from "./http.js";

export async function api(path, options = {}) {
  const response = await request(path, options);
  return options.raw ? response : response.json();
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return node;
}

// "2026-01-12T09:01:35.500000-05:00" -> date, wall time and offset exactly as written.
export function parts(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso || "");
  if (!m) return null;
  const frac = m[3] ? m[3].slice(0, 4).replace(/0+$/, "").replace(/\.$/, "") : "";
  return { date: m[1], time: m[2] + frac, offset: m[4] === "Z" ? "+00:00" : m[4] };
}

export function fmtTime(iso, { date = true } = {}) {
  const p = parts(iso);
  if (!p) return "—";
  return date ? `${p.date} ${p.time} ${p.offset}` : `${p.time} ${p.offset}`;
}

export function fmtSeconds(s) {
  if (s == null) return "—";
  const sign = s < 0 ? "−" : "";
  const abs = Math.abs(s);
  const text = Number.isInteger(abs) ? String(abs) : abs.toFixed(1);
  if (abs < 600) return `${sign}${text} s`;
  const h = Math.floor(abs / 3600), m = Math.floor((abs % 3600) / 60), sec = Math.floor(abs % 60);
  return `${sign}${h ? `${h} h ` : ""}${m} min ${sec} s`;
}

export function human(code) { return String(code).replaceAll("_", " "); }

export function mark(key) {
  const [short, long] = MARKS[key];
  return el("span", { class: `mark ${key}`, "data-mark": key, title: long },
    short, el("span", { class: "visually-hidden", text: ` (${long})` }));
}

// The exclusion's state: null (no exclusion), "open" (not judged), "accepted" or "rejected".
export function exclusionState(excluded, valid) {
  if (!excluded) return null;
  return valid === true ? "accepted" : valid === false ? "rejected" : "open";
}

// "not given: caller refused — note “would not leave the car”"
export function notGiven(tcpr) {
  return `not given: ${human(tcpr.not_given_reason)}${tcpr.not_given_note ? ` — note “${tcpr.not_given_note}”` : ""}`;
}

// What the AHA's reviewed rules make of an exclusion (DESIGN §5), in plain words.
export function exclusionRule(reason) {
  return reason === "other"
    ? "The reason is other: the AHA counts this exclusion only if the reviewer accepts it (“other circumstances the supervisor deems valid”); until then the call stays in the T-CPR rate."
    : "The AHA counts this exclusion unless the reviewer rejects it; rejected, the call stays in the T-CPR rate as a call without compressions.";
}

function percent(fraction) { return String(Number((fraction * 100).toFixed(3))); }

// "Random sample: 25 % of 40 population calls, seed 2026-q2 — 11 drawn"
export function sampleText(sample) {
  return `Random sample: ${percent(sample.fraction)} % of ${sample.population} population call${sample.population === 1 ? "" : "s"}, seed ${sample.seed} — ${sample.drawn} drawn`;
}

function yesNo(value) { return value == null ? "—" : value ? "yes" : "no"; }

function metCell(met) {
  if (met == null) return el("td", { class: "bench none", text: "—" });
  return el("td", { class: `bench ${met ? "met" : "missed"}`, text: met ? "met" : "missed" });
}

// A moment's time; the date only where it is not T0's own (the header shows that one).
function sameDayTime(iso, t0) {
  const p = parts(iso);
  const q = parts(t0);
  return p && q && p.date === q.date && p.offset === q.offset ? fmtTime(iso, { date: false }) : fmtTime(iso);
}

function timestamps(audit) {
  // The moment T0 is: the connection, or the answer when the call has no call.received.
  const t0Name = audit.t0_source === "call.answered" ? "call_answered" : "call_received";
  const rows = MOMENTS.map(([name, kind, label]) => {
    const inForce = audit.timestamps[name];
    const corrected = kind in audit.corrections;
    const original = corrected ? audit.original_times[kind] : null;
    const t0 = Date.parse(audit.t0);
    const secs = inForce && !Number.isNaN(t0) ? (Date.parse(inForce) - t0) / 1000 : null;
    const marks = [
      name === t0Name && audit.t0_source === "call.answered" ? mark("t0-answer") : null,
      name === "recognized" && audit.recognition_after_arrival ? mark("after-arrival") : null,
    ];
    return el("tr", { "data-kind": kind, class: corrected ? "corrected" : null },
      el("th", { scope: "row" }, name === "call_received" && t0Name !== name ? "Call connected" : label, marks),
      el("td", { class: "in-force time", text: sameDayTime(inForce, audit.t0) }),
      el("td", { class: "original" }, corrected
        ? el("span", {}, el("span", { class: "tag", text: "corrected" }), " recorded ", el("s", { class: "time", text: sameDayTime(original, audit.t0) }))
        : ""),
      el("td", { class: "num", text: name === t0Name ? "T0" : fmtSeconds(secs) }),
    );
  });
  return el("table", { class: "timestamps" },
    el("caption", { text: "Key timestamps" }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Moment" }), el("th", { scope: "col", text: "Time in force" }),
      el("th", { scope: "col", text: "Original" }), el("th", { scope: "col", text: "From T0" }))),
    el("tbody", {}, rows));
}

function intervals(audit) {
  const benchmark = { recognition_s: audit.benchmarks.recognition_met, first_compression_s: audit.benchmarks.first_compression_met };
  return el("table", { class: "intervals" },
    el("caption", { text: `Intervals (${audit.benchmark_profile})` }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Interval" }), el("th", { scope: "col", text: "Seconds" }),
      el("th", { scope: "col", text: "Benchmark" }), el("th", { scope: "col", text: "Result" }))),
    el("tbody", {}, INTERVALS.map(([key, label, threshold]) => el("tr", { "data-interval": key },
      el("th", { scope: "row", text: label }),
      el("td", { class: "num", text: fmtSeconds(audit.intervals[key]) }),
      el("td", { class: "num", text: threshold ? `< ${audit.thresholds[threshold]} s` : "" }),
      threshold ? metCell(benchmark[threshold]) : el("td", {}),
    ))));
}

const JUDGED = {
  open: "Not yet judged by a reviewer.",
  accepted: "Accepted by the reviewer: out of the AHA T-CPR rate.",
  rejected: "Rejected by the reviewer: the call counts in the AHA T-CPR rate.",
};

// The T-CPR outcome; an exclusion with the reviewer's judgement and what the AHA makes of it.
function tcprFact(audit) {
  const tcpr = audit.tcpr;
  const state = exclusionState(tcpr.excluded, tcpr.exclusion_valid);
  if (!tcpr.not_given_reason) {
    return tcpr.first_compression ? "first compression delivered" : tcpr.started ? "instructions begun, no compression recorded" : "not started";
  }
  if (!state) return `${notGiven(tcpr)}, after the first compression: not an exclusion`;
  return [
    el("span", { class: "line", text: `${notGiven(tcpr)}; no directed first compression: a T-CPR exclusion` }),
    el("span", { class: "line", "data-exclusion": state }, mark(`exclusion-${state}`), JUDGED[state]),
    state === "open" ? el("span", { class: "line muted", text: exclusionRule(tcpr.not_given_reason) }) : null,
  ];
}

function answersFact(audit) {
  const a = audit.answers;
  const breathing = a.breathing_agonal ? "no (described as agonal)"
    : a.breathing_confirmed ? "yes (described, confirmed normal)" : a.breathing || "—";
  const text = `conscious: ${a.conscious || "—"} · breathing normally: ${breathing}`;
  return audit.verify_breathing ? `${text} · breathing still to verify` : text;
}

function protocolFact(tcpr) {
  if (!tcpr.started) return "—";
  const parts = [tcpr.protocol || "protocol not recorded", tcpr.language ? `language ${tcpr.language}` : null,
    tcpr.variant ? `${tcpr.variant} instructions` : null];
  return parts.filter(Boolean).join(" · ");
}

function facts(audit) {
  const ems = audit.ems_outcome;
  const emsText = !ems ? "no EMS outcome yet"
    : !ems.ohca ? "not a cardiac arrest"
    : ["cardiac arrest", ems.resuscitation_attempted ? "resuscitation attempted" : "no resuscitation",
       ems.ems_witnessed ? "witnessed by EMS" : null, ems.rosc ? "ROSC" : null, ems.survived ? "survived" : null,
       ems.etiology ? `etiology ${ems.etiology}` : null].filter(Boolean).join(", ");
  const recognition = audit.recognized ? `recognised, ${PATHS[audit.recognition_path] || audit.recognition_path}` : "not recognised";
  const entries = [
    ["Recognition", audit.recognition_after_arrival
      ? [el("span", { class: "line", text: recognition }), el("span", { class: "line" }, mark("after-arrival"),
        "At or after the first unit on scene: the measures do not count it as the telecommunicator's recognition.")]
      : recognition],
    ["Answers", answersFact(audit)],
    ["Nature", [audit.nature.code, audit.nature.text].filter(Boolean).join(" ") || "—"],
    ["T-CPR", tcprFact(audit)],
    ["Protocol", protocolFact(audit.tcpr)],
    ["Dispatch", audit.dispatch_met === null || audit.dispatch_met === undefined
      ? "nothing called for a dispatch in parallel"
      : audit.dispatch_met ? "a unit dispatched within the recognition benchmark"
      : audit.intervals.to_dispatch === null ? "no unit dispatched, though the answers or the recognition called for one"
      : `a unit dispatched at ${fmtSeconds(audit.intervals.to_dispatch)}: over the recognition benchmark`],
    ["Alerts", audit.alerts.length ? audit.alerts.map(human).join(", ") : "none fired"],
    ["EMS outcome", emsText],
    ["AHA population", audit.in_population ? "yes" : "no"],
  ];
  if (audit.over_triage) entries.push(["Over-triage", "recognised, but EMS found no arrest"]);
  return el("dl", { class: "facts" }, entries.map(([k, v]) => [el("dt", { text: k }), el("dd", { "data-fact": k }, v)]));
}

export function reviewStatus(d) {
  if (d.signed_off) return { cls: "signed", text: `Signed off by ${d.reviewer || "unknown reviewer"}` };
  if (d.reviewed_at) return { cls: "draft", text: `Draft by ${d.reviewer || "unknown reviewer"}` };
  return { cls: "open", text: "Not reviewed" };
}

const EXCLUSION_DET = { null: "no exclusion", open: "not judged", accepted: "accepted", rejected: "rejected" };

function determination(audit) {
  const d = audit.determination;
  const list = (items) => (items.length ? el("ul", {}, items.map((r) => el("li", { text: r.startsWith("other:") ? r : human(r) }))) : "—");
  const status = reviewStatus(d);
  return el("section", { class: "determination", "aria-label": "Determination in force" },
    el("h3", {}, "Determination ", el("span", { class: `badge ${status.cls}`, text: status.text })),
    el("dl", { class: "facts" },
      el("dt", { text: "Recognizable" }), el("dd", { "data-det": "recognizable", text: yesNo(d.recognizable) }),
      el("dt", { text: "Exclusion" }), el("dd", { "data-det": "exclusion", text: EXCLUSION_DET[exclusionState(audit.tcpr.excluded, d.exclusion_valid)] }),
      el("dt", { text: "Non-recognition" }), el("dd", { "data-det": "nonrecognition" }, list(d.nonrecognition_reasons)),
      el("dt", { text: "Delay" }), el("dd", { "data-det": "delay" }, list(d.delay_reasons)),
      el("dt", { text: "Feedback" }), el("dd", { "data-det": "feedback", text: d.feedback || "—" }),
      el("dt", { text: "Notes" }), el("dd", { "data-det": "notes", text: d.notes || "—" }),
      el("dt", { text: "Reviewed" }), el("dd", { "data-det": "reviewed", text: d.reviewed_at ? `${fmtTime(d.reviewed_at)} by ${d.reviewer || "—"}` : "—" }),
    ));
}

function suggestions(audit) {
  if (!audit.suggested_reasons.length) return el("p", { class: "muted", text: "No suggested reasons." });
  return el("ul", { class: "suggested" }, audit.suggested_reasons.map((s) => el("li", {}, el("strong", { text: human(s.reason) }), ` — ${s.why}`)));
}

function timeline(audit) {
  return el("table", { class: "timeline" },
    el("caption", { text: "Timeline of events and alerts" }),
    el("thead", {}, el("tr", {}, ["From T0", "Time (as written)", "Source", "Actor", "What"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, audit.timeline.map((e) => el("tr", {
      class: [e.kind === "alert.raised" ? (e.alert && e.alert.endsWith("overdue") ? "alert overdue" : "alert") : "", e.recognition ? "recognition" : ""].join(" ").trim() || null,
      "data-kind": e.kind,
    },
      el("td", { class: "num", text: fmtSeconds(e.seconds) }),
      el("td", { class: "time", text: fmtTime(e.at) }),
      el("td", { text: e.source }),
      el("td", { text: e.actor || "" }),
      el("td", {}, e.description,
        e.recognition ? el("span", { class: "tag", text: "recognition" }) : null,
        e.corrected_at ? el("span", { class: "correction" }, ` → corrected to ${fmtTime(e.corrected_at, { date: false })} (${fmtSeconds(e.corrected_seconds)})`) : null),
    ))));
}

// The whole audit as one <article>; `headingLevel` lets the print page use h2 per call.
export function renderAudit(audit, { headingId = null } = {}) {
  return el("article", { class: "audit", "data-call-id": audit.call_id },
    el("header", { class: "audit-head" },
      el("h2", { id: headingId, tabindex: headingId ? "-1" : null }, `Call ${audit.call_id}`,
        audit.training ? el("span", { class: "badge training", title: "A scenario played to a trainee: not a real call, in no real measure" }, "training") : null),
      el("p", { class: "muted" },
        `${audit.agency} · T0 ${fmtTime(audit.t0)} · telecommunicator ${audit.telecommunicator || "—"} · ${audit.psap || "PSAP —"}${audit.live ? " · live" : ""}`),
      el("p", { class: `t0-source${audit.t0_source === "call.answered" ? " fallback" : ""}`, "data-t0-source": audit.t0_source || "" },
        audit.t0_source === "call.answered" ? mark("t0-answer") : null, T0_SOURCES[audit.t0_source] || "No T0 yet.")),
    el("div", { class: "audit-grid" },
      el("div", {}, timestamps(audit), intervals(audit)),
      el("div", {}, facts(audit), el("h3", { text: "Suggested reasons" }), suggestions(audit), determination(audit))),
    timeline(audit));
}
