// QI measures page (DESIGN.md §5, §6): the AHA T-CPR measures of one agency or a set of agencies
// for a period, reviewed (the AHA's own: signed-off QI reviews only) beside provisional (drafts as
// they stand) with the review coverage, the training needs QI review found, the monthly trend
// charts with their control limits, the annual summary with its secular trend, the
// per-telecommunicator breakdown with funnel plots and feedback cards, the equity breakdowns,
// the recognition list, and the exports.
// Everything comes from the measures API (signed in by the session cookie); nothing is computed here that
// the service does not report, so the page and the exports always agree.
// A training agency (the session's `training_agencies`) is offered apart and reported alone: its
// report says TRAINING and offers no export (the service refuses both a set naming it with other
// agencies and its files: its scenarios must never pass for real figures).
import { HttpError, download as httpDownload, request as httpRequest } from "./http.js";
import { fmtPercent, fmtSeconds, funnelChart, medianChart, rateChart } from "./measures-charts.js";

const $ = (sel) => document.querySelector(sel);
const READERS = new Set(["qi", "admin"]);

const HEADLINE = [
  { key: "recognition_rate", kind: "rate", title: "Recognition rate",
    of: "recognised / population (OHCA, resuscitation attempted, not EMS-witnessed)" },
  { key: "recognizable_recognition_rate", kind: "rate", title: "Recognisable recognition rate",
    of: "recognised / population less calls QI judged not recognisable" },
  { key: "tcpr_rate", kind: "rate", title: "T-CPR rate",
    of: "first compression / recognised population calls without an exclusion" },
  { key: "median_seconds_to_recognition", kind: "median", title: "Median time to recognition",
    of: "recognised population calls", lowerIsBetter: true },
  { key: "median_seconds_to_first_compression", kind: "median", title: "Median time to first compression",
    of: "population calls with a first compression", lowerIsBetter: true },
];

// The two sets of figures side by side: the AHA's (reviewed) first.
const SETS = [
  { key: "reviewed", title: "Reviewed (AHA)", note: "The AHA's figure: only calls whose QI review is signed off count.", of: (m) => m.reviewed },
  { key: "provisional", title: "Provisional (drafts as they stand)", note: "Every drafted audit as it stands, before sign-off: not for publication.", of: (m) => m },
];

// Equity breakdown dimensions (GET /api/v1/measures/breakdown `by`); `multi`: only for a set.
const DIMENSIONS = [
  { key: "sex", title: "Sex" },
  { key: "race", title: "Race" },
  { key: "age_group", title: "Age group" },
  { key: "area", title: "Area" },
  { key: "language", title: "Language of the instructions" },
  { key: "protocol", title: "Protocol version" },
  { key: "telecommunicator", title: "Telecommunicator" },
  { key: "agency", title: "Agency", multi: true },
];

const state = { me: null, query: null, measures: null, trend: null, zones: {}, equity: null };

// A network failure is an HttpError too (status 0), so one handler explains every failure.
async function reachable(call) {
  try {
    return await call();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(0, "the service cannot be reached");
  }
}

const request = (path, params) => reachable(() => httpRequest(`${path}?${params}`));

async function getJson(path, params) { return (await request(path, params)).json(); }

// ---- sign-in -------------------------------------------------------------------------------

function askForToken(reason) {
  state.me = null;
  offerSignOut(false, () => askForToken("Signed out."));
  $("#signin-reason").textContent = reason || "";
  $("#signin").hidden = false;
  $("#period").hidden = true;
  $("#report").hidden = true;
  $("#who").replaceChildren();
  setStatus("");
  $("#token").focus();
}

// Signed in as `me` (the session's role and agencies): only qi and admin read measures.
async function enter(me) {
  if (!READERS.has(me.role)) {
    return askForToken(`A ${me.role} token may not read the measures. Sign in with a qi or admin token.`);
  }
  state.me = me;
  $("#signin").hidden = true;
  offerSignOut(true, () => askForToken("Signed out."));
  $("#who").textContent = `${me.name} · ${me.role} · ${me.agencies.join(", ")}`;
  offerAgencies();
  $("#period").hidden = false;
  setStatus("");
  const query = queryFromLocation();
  if (query) { fillForm(query); await load(query); }
  else await load(formQuery());
}

async function signIn(token) {
  $("#signin").hidden = true;
  setStatus("Checking the token…");
  let me;
  try {
    me = await openSession(token);
  } catch (err) {
    return askForToken(err.message);
  }
  await enter(me);
}

// ---- the period form -----------------------------------------------------------------------

function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return isoDate(new Date(y, m - 1, d + n));
}

// The last twelve calendar months, this one included.
function defaultPeriod() {
  const now = new Date();
  return { from: isoDate(new Date(now.getFullYear(), now.getMonth() - 11, 1)), through: isoDate(new Date(now.getFullYear(), now.getMonth() + 1, 0)) };
}

function offerAgencies() {
  const boxes = $("#agency-boxes");
  boxes.replaceChildren();
  const agencies = state.me ? state.me.agencies : [];
  const real = agencies.filter((a) => !isTraining(a));
  $("#agency-typed-label").hidden = agencies.length > 0;
  // Real agencies first; a training agency after them, marked, and only ever picked alone.
  for (const agency of [...real, ...agencies.filter(isTraining)]) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "agency";
    box.value = agency;
    box.checked = agencies.length === 1 || agency === (real[0] ?? agencies[0]);
    box.addEventListener("change", () => {
      if (!box.checked) return;
      for (const other of boxes.querySelectorAll("input")) {
        if (other !== box && (isTraining(agency) || isTraining(other.value))) other.checked = false;
      }
    });
    label.append(box, ` ${agency}`);
    if (isTraining(agency)) {
      label.classList.add("training-agency");
      label.title = "A training agency: its scenarios are reported alone, marked training, and never exported.";
      label.append(" (training)");
    }
    boxes.append(label);
  }
  if (real.length > 1) {
    const all = document.createElement("button");
    all.type = "button";
    all.textContent = "All my agencies";
    all.addEventListener("click", () => { for (const b of boxes.querySelectorAll("input")) b.checked = !isTraining(b.value); });
    boxes.append(all);
  }
  const period = defaultPeriod();
  $("#from").value = period.from;
  $("#through").value = period.through;
}

function formQuery() {
  const picked = state.me
    ? [...document.querySelectorAll("#agency-boxes input:checked")].map((b) => b.value)
    : $("#agency-typed").value.split(",").map((s) => s.trim()).filter(Boolean);
  return { agencies: picked, from: $("#from").value, through: $("#through").value };
}

function fillForm(query) {
  if (state.me) {
    for (const b of document.querySelectorAll("#agency-boxes input")) b.checked = query.agencies.includes(b.value);
  } else {
    $("#agency-typed").value = query.agencies.join(", ");
  }
  $("#from").value = query.from;
  $("#through").value = query.through;
}

// The page's own address carries the chosen report (?agency=A&from=..&through=..), so a report
// can be bookmarked, shared with a colleague who has a token, or reloaded.
function queryFromLocation() {
  const params = new URLSearchParams(location.search);
  const agencies = params.getAll("agency");
  const from = params.get("from");
  const through = params.get("through");
  if (!agencies.length || !from || !through) return null;
  return { agencies, from, through };
}

function apiParams(query, { single, bounds } = {}) {
  const params = new URLSearchParams();
  for (const a of single ? [single] : query.agencies) params.append("agency", a);
  params.set("from", bounds ? bounds.from : query.from);
  params.set("to", bounds ? bounds.to : addDays(query.through, 1)); // the API's `to` is exclusive
  return params;
}

// The zone's UTC offset at an instant, as "+HH:MM", from the browser's own time-zone database.
function offsetAt(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const minutes = Math.round((wall - ms) / 60000);
  const a = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

// Midnight starting `day` in `zone`, as RFC 3339 with that zone's offset then.
function localMidnight(day, zone) {
  const [y, m, d] = day.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  const first = offsetAt(guess, zone);
  const sign = first.startsWith("-") ? -1 : 1;
  const shifted = guess - sign * (Number(first.slice(1, 3)) * 60 + Number(first.slice(4))) * 60000;
  return `${day}T00:00:00${offsetAt(shifted, zone)}`;
}

// The report's period as exact instants for agencies that share one zone (null when they do
// not). The trend and per-agency reports read a bare date in the agency's zone, but the headline
// measures (DESIGN.md §8) and the audit and NEMSIS exports read it as UTC: sending the local
// midnights makes every figure on the page count the same calls.
function boundsFor(query, agencies) {
  const zones = new Set(agencies.map((a) => state.zones[a] || "UTC"));
  if (zones.size !== 1) return null;
  const [zone] = zones;
  return { from: localMidnight(query.from, zone), to: localMidnight(addDays(query.through, 1), zone) };
}

// ---- loading -------------------------------------------------------------------------------

function setStatus(text) { $("#status").textContent = text; }

function showError(text) {
  const box = $("#error");
  box.textContent = text;
  box.hidden = !text;
}

// A training agency of the signed-in token (GET /api/v1/session's training_agencies).
function isTraining(agency) { return Boolean(state.me?.training_agencies?.includes(agency)); }

function validate(query) {
  if (!query.agencies.length) return "Pick at least one agency.";
  const training = query.agencies.find(isTraining);
  if (training && query.agencies.length > 1) return `${training} is a training agency: its calls are kept out of real measures. Report on it alone.`;
  if (!query.from || !query.through) return "Enter both dates of the period.";
  if (query.through < query.from) return "The period must end on or after the day it starts.";
  return null;
}

async function load(query) {
  const problem = validate(query);
  showError(problem || "");
  if (problem) return;
  state.query = query;
  const search = new URLSearchParams();
  for (const a of query.agencies) search.append("agency", a);
  search.set("from", query.from);
  search.set("through", query.through);
  history.replaceState(null, "", `${location.pathname}?${search}`);
  const scope = query.agencies.join(", ");
  $("#title-scope").textContent = `· ${scope}`;
  $("#report-period").textContent = `${scope}, ${query.from} through ${query.through}. Printed ${new Date().toLocaleString()}.`;
  setStatus("Loading measures…");
  $("#report").setAttribute("aria-busy", "true");
  try {
    const [trend, people, performances] = await Promise.all([
      getJson("/api/v1/measures/trend", apiParams(query)),
      Promise.all(query.agencies.map((a) => getJson("/api/v1/measures/telecommunicators", apiParams(query, { single: a })))),
      Promise.all(query.agencies.map((a) => getJson("/api/v1/measures/recognition", apiParams(query, { single: a })))),
    ]);
    if (state.query !== query) return;
    state.zones = trend.zones || Object.fromEntries(query.agencies.map((a) => [a, trend.zone || "UTC"]));
    const bounds = boundsFor(query, query.agencies);
    const measures = await getJson("/api/v1/measures", apiParams(query, { bounds }));
    if (state.query !== query) return; // a newer request has been made meanwhile
    state.measures = measures;
    state.trend = trend;
    renderTrainingMark(measures);
    renderHeadline(measures, query);
    renderTraining(measures);
    renderCharts(trend);
    renderAnnual(trend);
    renderFigures(measures);
    renderTelecommunicators(people, query);
    renderRecognition(performances, query);
    offerDimensions(query);
    $("#report").hidden = false;
    setStatus(measures.calls_in_period === 0
      ? "No calls for these agencies in this period: every measure shows — until there are."
      : `${measures.calls_in_period} calls in the period, ${measures.population} in the population.`);
    loadEquity(query);
  } catch (err) {
    if (state.query !== query) return;
    failed(err);
  } finally {
    $("#report").removeAttribute("aria-busy");
  }
}

function failed(err) {
  setStatus("");
  if (!(err instanceof HttpError)) { showError(`The page failed: ${err.message}`); return; }
  if (err.status === 401) { askForToken(SESSION_ENDED); return; }
  if (err.status === 403) {
    showError(`Not allowed: ${err.detail || err.message}. Pick agencies of this token, or use another token.`);
    return;
  }
  if (err.status === 422) { showError(`The service refused the period: ${err.message}`); return; }
  if (err.status === 0) { showError("The service cannot be reached. Try again in a moment."); return; }
  showError(`The service answered ${err.status}: ${err.message}`);
}

// ---- rendering -----------------------------------------------------------------------------

function node(name, attrs = {}, ...children) {
  const n = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") n.className = v;
    else if (k.startsWith("data-")) n.setAttribute(k, v);
    else n[k] = v;
  }
  n.append(...children.filter((c) => c != null).map((c) => (typeof c === "object" ? c : String(c))));
  return n;
}

function met(spec, figure) {
  if (spec.kind === "rate") return figure.percent == null ? null : figure.percent >= figure.goal;
  return figure.value == null ? null : figure.value < figure.benchmark;
}

function verdictOf(spec, ok, set) {
  if (ok == null) return set === "reviewed" ? "no QI-reviewed calls to measure yet" : "no calls: nothing to measure yet";
  if (spec.kind === "rate") return ok ? "goal met" : "below the goal";
  return ok ? "under the benchmark" : "over the benchmark";
}

// One figure of the headline table: the value, its numerator/denominator (or n), goal, verdict.
function figureCell(spec, figure, set, coverage) {
  const ok = met(spec, figure);
  const cell = node("td", { class: `figure ${set} ${ok == null ? "none" : ok ? "met" : "missed"}`, "data-set": set });
  const detail = node("div", { class: "detail" });
  if (spec.kind === "rate") {
    detail.append(node("div", { class: "fraction" }, `${figure.numerator} / ${figure.denominator}`), node("div", { class: "goal" }, `goal ≥ ${figure.goal} %`));
  } else {
    detail.append(node("div", { class: "fraction" }, `n = ${figure.n}`), node("div", { class: "goal" }, `benchmark < ${figure.benchmark} s`));
  }
  detail.append(node("div", { class: "verdict" }, verdictOf(spec, ok, set)));
  // The reviewed recognition rate counts reviewed calls over the whole population: until every
  // population call is reviewed it can only rise, so it is a floor.
  if (set === "reviewed" && spec.key === "recognition_rate" && coverage.denominator > 0 && coverage.percent < coverage.goal) {
    detail.append(node("div", { class: "caveat" }, "a floor until coverage is complete"));
  }
  cell.append(node("div", { class: "value" }, spec.kind === "rate" ? fmtPercent(figure.percent) : fmtSeconds(figure.value)), detail);
  return cell;
}

function renderCoverage(m) {
  const c = m.reviewed.coverage;
  const complete = c.denominator > 0 && c.percent >= c.goal;
  const box = $("#coverage");
  box.className = `coverage ${c.denominator === 0 ? "none" : complete ? "complete" : "incomplete"}`;
  const fill = node("span", { class: "fill" });
  fill.style.width = `${Math.min(Math.max(c.percent ?? 0, 0), 100)}%`;
  const bar = node("div", { class: "coverage-bar" }, fill);
  bar.setAttribute("aria-hidden", "true");
  box.replaceChildren(
    node("p", { class: "coverage-line", id: "coverage-line" }, c.denominator === 0
      ? "QI-reviewed: no population calls to review in this period."
      : `QI-reviewed ${c.numerator} of ${c.denominator} population calls — ${fmtPercent(c.percent)}, goal ${c.goal} %`),
    bar,
    node("p", { class: "coverage-note" }, c.denominator === 0
      ? "The AHA's figures count only QI-reviewed (signed-off) population calls."
      : complete
        ? "Every population call is QI-reviewed: the Reviewed (AHA) figures are complete and may be published."
        : "The AHA counts only QI-reviewed (signed-off) calls: the Reviewed (AHA) figures cannot be published until coverage is complete. Until then the reviewed recognition rate is a floor, not the centre's rate."),
  );
}

function plural(n, word, many = `${word}s`) { return `${n} ${n === 1 ? word : many}`; }

// What makes some figures less exact than they look: shown only when it happened.
function renderQuality(m) {
  const notes = [];
  if (m.t0_fallback_calls) {
    notes.push(node("li", { id: "quality-t0-fallback" }, `${plural(m.t0_fallback_calls, "call")} measured from the answer: no call.received, ring and transfer time lost`));
  }
  if (m.recognitions_after_arrival) {
    notes.push(node("li", { id: "quality-after-arrival" }, `${plural(m.recognitions_after_arrival, "recognition")} after EMS arrival, not counted`));
  }
  $("#quality").hidden = notes.length === 0;
  $("#quality-list").replaceChildren(...notes);
}

function renderHeadline(measures, query) {
  $("#profile").textContent = measures.benchmark_profile ?? Object.values(measures.by_agency || {}).map((m) => m.benchmark_profile).filter((v, i, a) => a.indexOf(v) === i).join(", ");
  renderCoverage(measures);
  renderQuality(measures);
  const coverage = measures.reviewed.coverage;
  const head = node("tr", {}, node("th", { scope: "col" }, "Measure"),
    ...SETS.map((set) => node("th", { scope: "col", class: `set ${set.key}`, abbr: set.title }, node("span", { class: "set-title" }, set.title), node("span", { class: "set-note" }, set.note))));
  const rows = HEADLINE.map((spec) => node("tr", { class: "measure", "data-measure": spec.key },
    node("th", { scope: "row" }, node("span", { class: "title" }, spec.title), node("span", { class: "of" }, spec.of)),
    ...SETS.map((set) => figureCell(spec, set.of(measures)[spec.key], set.key, coverage))));
  $("#headline").replaceChildren(
    node("caption", {}, "The five AHA measures: the AHA's reviewed figure beside the provisional one"),
    node("thead", {}, head), node("tbody", {}, ...rows));
  const by = measures.by_agency;
  $("#by-agency-wrap").hidden = !(by && query.agencies.length > 1);
  if (!by || query.agencies.length < 2) return;
  const head2 = node("tr", {}, node("th", { scope: "col" }, "Agency"), node("th", { scope: "col" }, "Calls"), node("th", { scope: "col" }, "Population"),
    node("th", { scope: "col" }, "QI coverage"), ...HEADLINE.map((s) => node("th", { scope: "col" }, s.title)));
  const rows2 = Object.entries(by).map(([agency, m]) => node("tr", { "data-agency": agency },
    node("th", { scope: "row" }, agency), node("td", {}, m.calls_in_period), node("td", {}, m.population), node("td", { class: "coverage-cell" }, rateCell(m.reviewed.coverage)),
    ...HEADLINE.map((s) => node("td", {}, s.kind === "rate" ? rateCell(m[s.key]) : medianCell(m[s.key])))));
  $("#by-agency").replaceChildren(node("caption", {}, "Each agency's own measures (provisional), with its QI review coverage"), node("thead", {}, head2), node("tbody", {}, ...rows2));
  const funnel = measures.funnel || {};
  $("#agency-funnels").replaceChildren(...[["recognition_rate", "Recognition rate"], ["tcpr_rate", "T-CPR rate"]]
    .filter(([key]) => funnel[key])
    .map(([key, title]) => funnelChart(funnel[key], { key, title: `${title} by agency (funnel plot)`, unit: "agency" })));
}

function rateText(r) { return `${fmtPercent(r.percent)} (${r.numerator}/${r.denominator})`; }
function medianText(m) { return `${fmtSeconds(m.value)} (n = ${m.n})`; }

// The same in a table cell: a narrow column may break between the figure and its count, never
// inside "81.8 %" or "(9/11)".
function pair(first, second) { return node("span", {}, node("span", { class: "nw" }, first), " ", node("span", { class: "nw" }, second)); }
function rateCell(r) { return pair(fmtPercent(r.percent), `(${r.numerator}/${r.denominator})`); }
function medianCell(m) { return pair(fmtSeconds(m.value), `(n = ${m.n})`); }

// ---- training needs ------------------------------------------------------------------------

const REASON_KINDS = [
  { key: "nonrecognition", title: "Why arrests were not recognised", empty: "No non-recognition reason in a signed-off review." },
  { key: "delay", title: "What delayed recognition or compressions", empty: "No delay reason in a signed-off review." },
];

// A reason code in words ("caller_not_with_patient" -> "caller not with patient").
function reasonLabel(code) { return code === "other" ? "other (free text)" : code.replaceAll("_", " "); }

// Most frequent first, then by name: the order a training plan reads them in.
function sortedReasons(tally) {
  return Object.entries(tally || {}).sort(([a, x], [b, y]) => y - x || reasonLabel(a).localeCompare(reasonLabel(b)));
}

function reasonTable(kind, tally) {
  const entries = sortedReasons(tally);
  if (!entries.length) return node("p", { class: "none", "data-reasons": kind.key }, kind.empty);
  const most = entries[0][1];
  const rows = entries.map(([code, n]) => {
    const fill = node("span", { class: "fill" });
    fill.style.width = `${(n / most) * 100}%`;
    const bar = node("span", { class: "reason-bar" }, fill);
    bar.setAttribute("aria-hidden", "true");
    return node("tr", { "data-reason": code }, node("th", { scope: "row" }, reasonLabel(code)), node("td", { class: "count" }, n), node("td", { class: "bar-cell" }, bar));
  });
  const head = node("tr", {}, node("th", { scope: "col" }, "Reason"), node("th", { scope: "col" }, "Calls"), node("th", { scope: "col" }, node("span", { class: "sr-only" }, "Share of the most frequent")));
  return node("table", { class: "reasons", id: `reasons-${kind.key}`, "data-reasons": kind.key }, node("caption", {}, kind.title), node("thead", {}, head), node("tbody", {}, ...rows));
}

function renderTraining(m) {
  const reviewed = m.reviewed;
  $("#training-scope").textContent = `Reasons the QI reviewers recorded on the ${plural(reviewed.qi_reviewed, "signed-off population call")} of the period, each counted once per call; free text counts as "other".`;
  $("#training").replaceChildren(...REASON_KINDS.map((kind) => node("div", { class: "reason-list" }, reasonTable(kind, reviewed.reasons[kind.key]))));
}

function reasonsInline(tally) {
  const entries = sortedReasons(tally);
  return entries.length ? entries.map(([code, n]) => `${reasonLabel(code)} (${n})`).join(", ") : "none";
}

function renderCharts(trend) {
  const zones = Object.entries(trend.zones || {}).map(([a, z]) => `${a}: ${z}`).join(", ");
  $("#trend-zone").textContent = trend.zone
    ? `Calendar months in ${trend.zone}; a dash marks a month with no calls to measure.`
    : `Each agency's own calendar months (${zones}), added month by month; the headline measures above count whole UTC days because the zones differ. A dash marks a month with no calls to measure.`;
  const changes = protocolChanges(trend);
  const charted = new Set(trend.months.map((m) => m.month));
  const inPeriod = changes.filter((c) => charted.has(c.month));
  if (inPeriod.length) {
    $("#trend-zone").textContent += ` A dashed violet line marks the day a protocol version took effect (${inPeriod.map((c) => c.label).join(", ")}).`;
  }
  $("#charts").replaceChildren(...HEADLINE.map((spec) => {
    const chartSpec = {
      ...spec, goal: spec.kind === "rate" ? trend.months[0]?.[spec.key]?.goal ?? goalOf(spec) : trend.months[0]?.[spec.key]?.benchmark ?? goalOf(spec), title: `${spec.title} by month`,
      control: (trend.control_limits || {})[spec.key], changes,
    };
    return spec.kind === "rate" ? rateChart(trend.months, chartSpec) : medianChart(trend.months, chartSpec);
  }));
}

// The wall-clock date and time of an instant in `zone`, from the browser's time-zone database.
function localParts(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute) };
}

const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// When each of the agencies' own protocol versions took effect (the trend's protocol_changes),
// placed in the agency's own calendar month, for the charts' marks. One mark per version and
// date, whatever the languages it was signed in; the charts keep those inside their months.
function protocolChanges(trend) {
  const several = (trend.agencies || []).length > 1;
  const marks = new Map();
  for (const c of trend.protocol_changes || []) {
    const ms = Date.parse(c.effective_from);
    if (Number.isNaN(ms)) continue;
    const zone = (trend.zones || {})[c.agency] || trend.zone || "UTC";
    const t = localParts(ms, zone);
    const protocol = c.protocol || `${c.id}@${c.version}`;
    const key = `${c.agency} ${protocol} ${c.effective_from}`;
    const known = marks.get(key);
    if (known) { if (c.language && !known.languages.includes(c.language)) known.languages.push(c.language); continue; }
    const days = new Date(t.year, t.month, 0).getDate();
    const at = t.hour || t.minute ? ` ${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}` : "";
    marks.set(key, {
      month: `${t.year}-${String(t.month).padStart(2, "0")}`,
      fraction: (t.day - 1 + (t.hour + t.minute / 60) / 24) / days,
      protocol,
      label: several ? `${c.agency}: ${protocol}` : protocol,
      when: `${t.day} ${MONTH_NAMES[t.month - 1]} ${t.year}${at}`,
      languages: c.language ? [c.language] : [],
      signedBy: c.signed_by,
    });
  }
  return [...marks.values()].map((m) => ({
    ...m,
    title: `${m.label} took effect ${m.when}${m.languages.length ? ` (${m.languages.join(", ")})` : ""}${m.signedBy ? `, signed by ${m.signedBy}` : ""}`,
  }));
}

function goalOf(spec) {
  const figure = state.measures[spec.key];
  return spec.kind === "rate" ? figure.goal : figure.benchmark;
}

const TREND_ROWS = [
  ["recognition_rate", "Recognition rate", "pp"],
  ["tcpr_rate", "T-CPR rate", "pp"],
  ["median_seconds_to_recognition", "Median time to recognition", "s"],
  ["median_seconds_to_first_compression", "Median time to first compression", "s"],
];

function renderAnnual(trend) {
  const head = node("tr", {}, ...["Year", "Calls", "Population", "QI-reviewed", ...HEADLINE.map((s) => s.title)].map((t) => node("th", { scope: "col" }, t)));
  // Each figure provisional, with the AHA's reviewed figure under it.
  const rows = trend.years.map((y) => node("tr", { "data-year": y.year },
    node("th", { scope: "row" }, y.year), node("td", {}, y.calls_in_period), node("td", {}, y.population),
    node("td", { class: "coverage-cell" }, `${y.reviewed.coverage.numerator} of ${y.reviewed.coverage.denominator}`, node("span", { class: "aha" }, fmtPercent(y.reviewed.coverage.percent))),
    ...HEADLINE.map((s) => node("td", { "data-measure": s.key }, s.kind === "rate" ? rateCell(y[s.key]) : medianCell(y[s.key]),
      node("span", { class: "aha" }, `AHA: ${s.kind === "rate" ? rateText(y.reviewed[s.key]) : medianText(y.reviewed[s.key])}`)))));
  $("#annual").replaceChildren(node("caption", {}, "Annual summary (calendar years overlapping the period): provisional, with the AHA's reviewed figure beneath"), node("thead", {}, head), node("tbody", {}, ...rows));
  const reasonHead = node("tr", {}, node("th", { scope: "col" }, "Year"), node("th", { scope: "col" }, "QI-reviewed"),
    ...REASON_KINDS.map((kind) => node("th", { scope: "col" }, kind.title)));
  const reasonRows = trend.years.map((y) => node("tr", { "data-year": y.year }, node("th", { scope: "row" }, y.year), node("td", {}, y.reviewed.qi_reviewed),
    ...REASON_KINDS.map((kind) => node("td", { "data-reasons": kind.key }, reasonsInline(y.reviewed.reasons[kind.key])))));
  $("#annual-reasons").replaceChildren(node("caption", {}, "Training needs from QI review, by year (calls, most frequent first)"), node("thead", {}, reasonHead), node("tbody", {}, ...reasonRows));

  const trendHead = node("tr", {}, ...["Measure", "Direction", "Slope per year", "Months used"].map((t) => node("th", { scope: "col" }, t)));
  const trendRows = TREND_ROWS.map(([key, title, unit]) => {
    const t = (trend.secular_trend || {})[key] || {};
    const slope = t.slope_per_year == null ? "—" : `${t.slope_per_year > 0 ? "+" : t.slope_per_year < 0 ? "−" : "±"}${Math.abs(t.slope_per_year).toFixed(1)} ${unit === "pp" ? "percentage points" : "s"}/year`;
    const arrow = { improving: "▲ improving", worsening: "▼ worsening", flat: "▶ flat" }[t.direction] || "— too few months (needs 3 with data)";
    return node("tr", { "data-measure": key, class: t.direction || "unknown" },
      node("th", { scope: "row" }, title), node("td", { class: "direction" }, arrow), node("td", { class: "slope" }, slope), node("td", {}, t.months_used ?? 0));
  });
  $("#secular").replaceChildren(node("caption", {}, "Secular trend: least-squares slope over the months with data (for times, lower is improving)"), node("thead", {}, trendHead), node("tbody", {}, ...trendRows));
}

function reasons(counts) {
  const entries = Object.entries(counts || {});
  if (!entries.length) return node("span", {}, "none");
  return node("ul", {}, ...entries.map(([reason, n]) => node("li", {}, `${reason.replaceAll("_", " ")}: ${n}`)));
}

function renderFigures(m) {
  const items = [
    ["Calls in period", m.calls_in_period, "figure-calls"],
    ["Population (OHCA, resuscitation attempted, not EMS-witnessed)", m.population, "figure-population"],
    ["QI-reviewed (population)", `${m.qi_reviewed} of ${m.population}`, "figure-reviewed"],
    ["QI-reviewed (all calls)", `${m.qi_reviewed_all_calls} of ${m.calls_in_period}`, "figure-reviewed-all"],
    ["Over-triage (recognised, EMS found no arrest)", m.over_triage, "figure-over-triage"],
    ["Calls without an EMS outcome yet", m.without_ems_outcome, "figure-without-ems"],
    ["Calls measured from the answer (no call.received)", m.t0_fallback_calls, "figure-t0-fallback"],
    ["Recognitions after EMS arrival (not counted)", m.recognitions_after_arrival, "figure-after-arrival"],
    ["T-CPR exclusions", reasons(m.tcpr_exclusions), "figure-exclusions"],
    ["T-CPR exclusions the review upheld (AHA)", reasons(m.reviewed.tcpr_exclusions), "figure-exclusions-reviewed"],
    ["Outside the population", reasons(m.outside_population), "figure-outside"],
  ];
  $("#figures").replaceChildren(...items.flatMap(([label, value, id]) => [node("dt", {}, label), node("dd", { id }, value)]));
}

// ---- per telecommunicator ------------------------------------------------------------------

const TC_COLUMNS = [
  { title: "Telecommunicator", value: (r) => r.telecommunicator ?? "unassigned", text: true },
  { title: "Agency", value: (r) => r.agency, text: true, multi: true },
  { title: "Calls", value: (r) => r.calls },
  { title: "Population", value: (r) => r.population },
  { title: "Recognised", value: (r) => r.recognized },
  { title: "Recognition rate", value: (r) => r.recognition_rate.percent, show: (r) => rateCell(r.recognition_rate) },
  { title: "T-CPR rate", value: (r) => r.tcpr_rate.percent, show: (r) => rateCell(r.tcpr_rate) },
  { title: "Median to recognition", value: (r) => r.median_seconds_to_recognition.value, show: (r) => fmtSeconds(r.median_seconds_to_recognition.value) },
  { title: "Median to first compression", value: (r) => r.median_seconds_to_first_compression.value, show: (r) => fmtSeconds(r.median_seconds_to_first_compression.value) },
  { title: "QI coverage", value: (r) => r.reviewed?.coverage.percent, show: (r) => (r.reviewed ? rateCell(r.reviewed.coverage) : "—") },
  { title: "Recognition < benchmark", value: (r) => r.recognition_met },
  { title: "First compression < benchmark", value: (r) => r.first_compression_met },
];

const tcSort = { column: 0, ascending: true };
let tcRows = [];

function compare(a, b, column) {
  const x = column.value(a);
  const y = column.value(b);
  if (x == null && y == null) return 0;
  if (x == null) return 1; // nothing to compare sorts last either way
  if (y == null) return -1;
  return column.text ? String(x).localeCompare(String(y)) : x - y;
}

function renderTelecommunicators(answers, query) {
  tcRows = answers.flatMap((answer) => answer.telecommunicators.map((r) => ({ ...r, agency: answer.agency })));
  const multi = query.agencies.length > 1;
  $("#tc-empty").hidden = tcRows.length > 0;
  $("#tc-table").hidden = tcRows.length === 0;
  drawTcTable(multi);
  $("#tc-funnels").replaceChildren(...answers.flatMap((answer) => [["recognition_rate", "Recognition rate"], ["tcpr_rate", "T-CPR rate"]]
    .filter(([key]) => answer.funnel?.[key] && answer.telecommunicators.length)
    .map(([key, title]) => funnelChart(answer.funnel[key], {
      key, title: `${title} by telecommunicator${multi ? ` (${answer.agency})` : ""} (funnel plot)`, unit: "telecommunicator",
      nameOf: (p) => p.name ?? "unassigned",
    }))));
  $("#tc-cards").replaceChildren(...tcRows.map((r) => feedbackCard(r, multi)));
}

function drawTcTable(multi) {
  const columns = TC_COLUMNS.filter((c) => multi || !c.multi);
  const sorted = [...tcRows].sort((a, b) => {
    const c = compare(a, b, columns[tcSort.column]);
    const v = columns[tcSort.column].value;
    if (v(a) == null || v(b) == null) return c; // nulls last in both directions
    return tcSort.ascending ? c : -c;
  });
  const head = node("tr", {}, ...columns.map((c, i) => {
    const sort = i === tcSort.column ? (tcSort.ascending ? "ascending" : "descending") : "none";
    const button = node("button", { type: "button" }, c.title);
    button.addEventListener("click", () => {
      tcSort.ascending = tcSort.column === i ? !tcSort.ascending : true;
      tcSort.column = i;
      drawTcTable(multi);
    });
    const th = node("th", { scope: "col" }, button);
    th.setAttribute("aria-sort", sort);
    return th;
  }));
  const rows = sorted.map((r) => node("tr", { "data-telecommunicator": r.telecommunicator ?? "" },
    ...columns.map((c, i) => node(i ? "td" : "th", i ? {} : { scope: "row" }, c.show ? c.show(r) : c.value(r)))));
  $("#tc-table").replaceChildren(node("caption", {}, "Per telecommunicator (select a heading to sort)"), node("thead", {}, head), node("tbody", {}, ...rows));
}

function feedbackCard(r, multi) {
  const name = r.telecommunicator ?? "unassigned";
  const card = node("article", { class: "feedback", "data-telecommunicator": r.telecommunicator ?? "" });
  card.append(node("h3", {}, multi ? `${name} (${r.agency})` : name));
  card.append(node("p", { class: "headline" }, r.card?.headline ?? ""));
  if (r.card?.verdict) {
    const goals = Object.values(r.goals_met || {});
    const both = goals.every((g) => g !== false) ? "met" : goals.some((g) => g === true) ? "partial" : "missed";
    card.append(node("p", { class: `verdict ${both}` }, r.card.verdict));
  }
  if (r.reviewed) {
    const c = r.reviewed.coverage;
    card.append(node("p", { class: "coverage" }, c.denominator === 0
      ? "QI-reviewed: no population calls to review"
      : `QI-reviewed ${c.numerator} of ${c.denominator} population calls (${fmtPercent(c.percent)}) · AHA reviewed: recognition ${rateText(r.reviewed.recognition_rate)}, T-CPR ${rateText(r.reviewed.tcpr_rate)}`));
  }
  card.append(node("p", { class: "mini" },
    `${r.calls} calls · ${r.population} in population · recognition ${fmtPercent(r.recognition_rate.percent)} · T-CPR ${fmtPercent(r.tcpr_rate.percent)}`));
  for (const [title, list, cls] of [["Strengths", r.card?.strengths, "strengths"], ["Opportunities", r.card?.opportunities, "opportunities"]]) {
    card.append(node("h4", {}, title));
    card.append(list && list.length ? node("ul", { class: cls }, ...list.map((s) => node("li", {}, s))) : node("p", { class: `${cls} none` }, "none noted"));
  }
  return card;
}

// ---- recognition list ----------------------------------------------------------------------

function renderRecognition(answers, query) {
  const multi = query.agencies.length > 1;
  const all = answers.flatMap((a) => a.performances.map((p) => ({ ...p, agency: a.agency })));
  $("#recognition-empty").hidden = all.length > 0;
  $("#recognition").hidden = all.length === 0;
  const titles = ["Call", ...(multi ? ["Agency"] : []), "Telecommunicator", "T0", "To recognition", "To first compression", "Why"];
  const head = node("tr", {}, ...titles.map((t) => node("th", { scope: "col" }, t)));
  const rows = all.map((p) => node("tr", { "data-call-id": p.call_id },
    node("th", { scope: "row" }, p.call_id), ...(multi ? [node("td", {}, p.agency)] : []),
    node("td", {}, p.telecommunicator ?? "unassigned"), node("td", {}, p.t0 ? new Date(p.t0).toLocaleString() : "—"),
    node("td", {}, fmtSeconds(p.to_recognition)), node("td", {}, fmtSeconds(p.to_first_compression)), node("td", {}, p.why)));
  $("#recognition").replaceChildren(node("caption", {}, "Calls recognised and coached to compressions well inside the benchmarks, best first"), node("thead", {}, head), node("tbody", {}, ...rows));
}

// ---- equity --------------------------------------------------------------------------------

// The breakdown reads bare dates as UTC like /api/v1/measures, so it gets the same local
// midnights and counts the same calls as the headline.
function breakdownParams(query, by, format) {
  const params = apiParams(query, { bounds: boundsFor(query, query.agencies) });
  params.set("by", by);
  if (format) params.set("format", format);
  return params;
}

function offerDimensions(query) {
  const select = $("#equity-by");
  const chosen = select.value || "sex";
  const offered = DIMENSIONS.filter((d) => !d.multi || query.agencies.length > 1);
  select.replaceChildren(...offered.map((d) => node("option", { value: d.key }, d.title)));
  select.value = offered.some((d) => d.key === chosen) ? chosen : "sex";
}

async function loadEquity(query) {
  const by = $("#equity-by").value;
  const ticket = {};
  state.equity = ticket;
  const out = $("#equity-status");
  out.textContent = "Loading the breakdown…";
  $("#equity").setAttribute("aria-busy", "true");
  try {
    const body = await getJson("/api/v1/measures/breakdown", breakdownParams(query, by));
    if (state.equity !== ticket || state.query !== query) return;
    renderEquity(body);
    const shown = body.groups.filter((g) => !g.suppressed).length;
    out.textContent = body.groups.length
      ? `${plural(body.groups.length, "group")}, ${shown} shown, ${body.groups.length - shown} suppressed.`
      : "No calls in the period to break down.";
  } catch (err) {
    if (state.equity !== ticket) return;
    if (err instanceof HttpError && err.status === 401) { askForToken(SESSION_ENDED); return; }
    out.textContent = `The breakdown failed: ${err instanceof HttpError && err.status ? `${err.status} ` : ""}${err.message}`;
  } finally {
    if (state.equity === ticket) $("#equity").removeAttribute("aria-busy");
  }
}

const EQUITY_MEASURES = [
  { key: "recognition_rate", title: "Recognition rate", cell: rateCell },
  { key: "tcpr_rate", title: "T-CPR rate", cell: rateCell },
  { key: "median_seconds_to_recognition", title: "Median to recognition", cell: medianCell },
  { key: "median_seconds_to_first_compression", title: "Median to first compression", cell: medianCell },
];

function renderEquity(body) {
  const dimension = DIMENSIONS.find((d) => d.key === body.by)?.title ?? body.by;
  const top = node("tr", {}, node("th", { scope: "col", rowSpan: 2 }, dimension), node("th", { scope: "col", rowSpan: 2 }, "Population"),
    ...EQUITY_MEASURES.map((m) => node("th", { scope: "colgroup", colSpan: 2, class: "group-head" }, m.title)),
    node("th", { scope: "col", rowSpan: 2 }, "QI coverage"));
  const sub = node("tr", {}, ...EQUITY_MEASURES.flatMap(() => SETS.map((set) => node("th", { scope: "col", class: `set ${set.key}` }, set.key === "reviewed" ? "AHA reviewed" : "Provisional"))));
  const width = 1 + EQUITY_MEASURES.length * SETS.length + 1;
  const rows = body.groups.map((g) => {
    const label = g.group == null ? "not recorded" : g.group;
    const row = node("tr", { "data-group": g.group ?? "", class: g.suppressed ? "suppressed" : "" }, node("th", { scope: "row", class: g.group == null ? "unrecorded" : "" }, label));
    if (g.suppressed) {
      // Small cells identify people: no figure at all, not even the group's exact size.
      row.append(node("td", { colSpan: width, class: "suppressed-note" }, `suppressed (1–${body.suppress_up_to} arrests)`));
      return row;
    }
    row.append(node("td", { class: "population" }, g.population),
      ...EQUITY_MEASURES.flatMap((m) => SETS.map((set) => node("td", { "data-measure": m.key, "data-set": set.key, class: set.key }, m.cell(set.of(g)[m.key])))),
      node("td", { class: "coverage-cell", "data-measure": "coverage" }, rateCell(g.reviewed.coverage)));
    return row;
  });
  const table = $("#equity");
  table.hidden = body.groups.length === 0;
  table.replaceChildren(
    node("caption", {}, `By ${dimension.toLowerCase()}: the AHA's reviewed figure beside the provisional one; groups of 1 to ${body.suppress_up_to} arrests suppressed`),
    node("thead", {}, top, sub), node("tbody", {}, ...rows));
}

// ---- exports -------------------------------------------------------------------------------

// A training agency's report: marked on screen and on paper, and nothing to export.
function renderTrainingMark(measures) {
  const training = measures.training === true;
  $("#training-banner").hidden = !training;
  $("#training-text").textContent = training
    ? `${measures.agency} is a training agency: these are scenarios played to trainees, not calls of the public. They count in no real agency's measures and are not exported.`
    : "";
  for (const button of document.querySelectorAll("[data-export]")) {
    button.disabled = training;
    button.title = training ? "A training agency's figures are not exported." : "";
  }
  for (const out of document.querySelectorAll(".export-status")) out.textContent = training ? "Not exported: a training agency's figures stay on this page." : "";
}

// Fetched, then saved under the service's file name (http.js), so a refusal can be shown here.
const download = (path, params, fallback) =>
  reachable(() => httpDownload(`${path}?${params}`, { fallback }));

const EXPORTS = {
  "measures-csv": (q) => [["/api/v1/exports/measures.csv", apiParams(q), `measures-${q.agencies.join("+")}.csv`]],
  "measures-json": (q) => [["/api/v1/measures", apiParams(q, { bounds: boundsFor(q, q.agencies) }), `measures-${q.agencies.join("+")}.json`]],
  cares: (q) => q.agencies.map((a) => ["/api/v1/exports/cares.csv", apiParams(q, { single: a }), `cares-${a}.csv`]),
  nemsis: (q) => q.agencies.map((a) => ["/api/v1/exports/nemsis-linkage", apiParams(q, { single: a, bounds: boundsFor(q, [a]) }), `nemsis-linkage-${a}.xml`]),
  audits: (q) => q.agencies.map((a) => ["/api/v1/exports/audits.csv", apiParams(q, { single: a, bounds: boundsFor(q, [a]) }), `audits-${a}.csv`]),
  "breakdown-csv": (q) => [["/api/v1/measures/breakdown", breakdownParams(q, $("#equity-by").value, "csv"), `measures-by-${$("#equity-by").value}-${q.agencies.join("+")}.csv`]],
};

async function exportClicked(button) {
  const q = state.query;
  if (!q) return;
  const out = button.closest("section").querySelector(".export-status");
  button.disabled = true;
  out.textContent = `Preparing ${button.textContent}…`;
  try {
    const saved = [];
    for (const [path, params, fallback] of EXPORTS[button.dataset.export](q)) saved.push(await download(path, params, fallback));
    out.textContent = `Saved ${saved.join(", ")}.`;
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) askForToken(SESSION_ENDED);
    else out.textContent = `${button.textContent} failed: ${err instanceof HttpError && err.status ? `${err.status} ` : ""}${err.message}`;
  } finally {
    button.disabled = state.measures?.training === true;
  }
}

// ---- wiring --------------------------------------------------------------------------------

$("#signin").addEventListener("submit", (e) => { e.preventDefault(); signIn(readTokenInput()); });
$("#period").addEventListener("submit", (e) => { e.preventDefault(); load(formQuery()); });
for (const button of document.querySelectorAll("[data-export]")) button.addEventListener("click", () => exportClicked(button));
$("#print").addEventListener("click", () => window.print());
$("#equity-form").addEventListener("submit", (e) => { e.preventDefault(); if (state.query) loadEquity(state.query); });
window.tcpr = { state, load };

resumeSession().then(({ me, reason }) => (me ? enter(me) : askForToken(reason || "Sign in with a qi or admin token to read the measures.")));
