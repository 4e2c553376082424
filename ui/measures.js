// QI measures page (DESIGN.md §5, §6): the AHA T-CPR measures of one agency or a set of agencies
// for a period, the monthly trend charts, the annual summary with its secular trend, the
// per-telecommunicator breakdown with feedback cards, the recognition list, and the exports.
// Everything comes from the measures API (signed in by the session cookie); nothing is computed here that
// the service does not report, so the page and the exports always agree.
import { HttpError, download as httpDownload, request as httpRequest } from "./http.js";
import { fmtPercent, fmtSeconds, medianChart, rateChart } from "./measures-charts.js";

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

const state = { me: null, query: null, measures: null, trend: null, zones: {} };

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
  $("#agency-typed-label").hidden = agencies.length > 0;
  for (const agency of agencies) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "agency";
    box.value = agency;
    box.checked = agencies.length === 1 || agency === agencies[0];
    label.append(box, ` ${agency}`);
    boxes.append(label);
  }
  if (agencies.length > 1) {
    const all = document.createElement("button");
    all.type = "button";
    all.textContent = "All my agencies";
    all.addEventListener("click", () => { for (const b of boxes.querySelectorAll("input")) b.checked = true; });
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

function validate(query) {
  if (!query.agencies.length) return "Pick at least one agency.";
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
    renderHeadline(measures, query);
    renderCharts(trend);
    renderAnnual(trend);
    renderFigures(measures);
    renderTelecommunicators(people, query);
    renderRecognition(performances, query);
    $("#report").hidden = false;
    setStatus(measures.calls_in_period === 0
      ? "No calls for these agencies in this period: every measure shows — until there are."
      : `${measures.calls_in_period} calls in the period, ${measures.population} in the population.`);
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

function headlineCard(spec, figure) {
  const ok = met(spec, figure);
  const card = node("article", { class: `measure ${ok == null ? "none" : ok ? "met" : "missed"}`, "data-measure": spec.key });
  card.append(node("h3", {}, spec.title));
  if (spec.kind === "rate") {
    card.append(
      node("div", { class: "value" }, fmtPercent(figure.percent)),
      node("div", { class: "goal" }, `goal ≥ ${figure.goal} %`),
      node("div", { class: "fraction" }, `${figure.numerator} / ${figure.denominator}`),
    );
  } else {
    card.append(
      node("div", { class: "value" }, fmtSeconds(figure.value)),
      node("div", { class: "goal" }, `benchmark < ${figure.benchmark} s`),
      node("div", { class: "fraction" }, `n = ${figure.n}`),
    );
  }
  const verdict = ok == null ? "no calls: nothing to measure yet" : ok ? (spec.kind === "rate" ? "goal met" : "under the benchmark") : (spec.kind === "rate" ? "below the goal" : "over the benchmark");
  card.append(node("div", { class: "verdict" }, verdict), node("div", { class: "of" }, spec.of));
  return card;
}

function renderHeadline(measures, query) {
  $("#profile").textContent = measures.benchmark_profile ?? Object.values(measures.by_agency || {}).map((m) => m.benchmark_profile).filter((v, i, a) => a.indexOf(v) === i).join(", ");
  $("#headline").replaceChildren(...HEADLINE.map((spec) => headlineCard(spec, measures[spec.key])));
  const by = measures.by_agency;
  $("#by-agency-wrap").hidden = !(by && query.agencies.length > 1);
  if (!by || query.agencies.length < 2) return;
  const head = node("tr", {}, node("th", { scope: "col" }, "Agency"), node("th", { scope: "col" }, "Calls"), node("th", { scope: "col" }, "Population"),
    ...HEADLINE.map((s) => node("th", { scope: "col" }, s.title)));
  const rows = Object.entries(by).map(([agency, m]) => node("tr", { "data-agency": agency },
    node("th", { scope: "row" }, agency), node("td", {}, m.calls_in_period), node("td", {}, m.population),
    ...HEADLINE.map((s) => node("td", {}, s.kind === "rate"
      ? `${fmtPercent(m[s.key].percent)} (${m[s.key].numerator}/${m[s.key].denominator})`
      : `${fmtSeconds(m[s.key].value)} (n = ${m[s.key].n})`))));
  $("#by-agency").replaceChildren(node("caption", {}, "Each agency's own measures"), node("thead", {}, head), node("tbody", {}, ...rows));
}

function renderCharts(trend) {
  const zones = Object.entries(trend.zones || {}).map(([a, z]) => `${a}: ${z}`).join(", ");
  $("#trend-zone").textContent = trend.zone
    ? `Calendar months in ${trend.zone}; a dash marks a month with no calls to measure.`
    : `Each agency's own calendar months (${zones}), added month by month; the headline measures above count whole UTC days because the zones differ. A dash marks a month with no calls to measure.`;
  $("#charts").replaceChildren(...HEADLINE.map((spec) => {
    const chartSpec = { ...spec, goal: spec.kind === "rate" ? trend.months[0]?.[spec.key]?.goal ?? goalOf(spec) : trend.months[0]?.[spec.key]?.benchmark ?? goalOf(spec), title: `${spec.title} by month` };
    return spec.kind === "rate" ? rateChart(trend.months, chartSpec) : medianChart(trend.months, chartSpec);
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
  const rows = trend.years.map((y) => node("tr", { "data-year": y.year },
    node("th", { scope: "row" }, y.year), node("td", {}, y.calls_in_period), node("td", {}, y.population), node("td", {}, y.qi_reviewed),
    ...HEADLINE.map((s) => node("td", {}, s.kind === "rate"
      ? `${fmtPercent(y[s.key].percent)} (${y[s.key].numerator}/${y[s.key].denominator})`
      : `${fmtSeconds(y[s.key].value)} (n = ${y[s.key].n})`))));
  $("#annual").replaceChildren(node("caption", {}, "Annual summary (calendar years overlapping the period)"), node("thead", {}, head), node("tbody", {}, ...rows));

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
    ["T-CPR exclusions", reasons(m.tcpr_exclusions), "figure-exclusions"],
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
  { title: "Recognition rate", value: (r) => r.recognition_rate.percent, show: (r) => `${fmtPercent(r.recognition_rate.percent)} (${r.recognition_rate.numerator}/${r.recognition_rate.denominator})` },
  { title: "T-CPR rate", value: (r) => r.tcpr_rate.percent, show: (r) => `${fmtPercent(r.tcpr_rate.percent)} (${r.tcpr_rate.numerator}/${r.tcpr_rate.denominator})` },
  { title: "Median to recognition", value: (r) => r.median_seconds_to_recognition.value, show: (r) => fmtSeconds(r.median_seconds_to_recognition.value) },
  { title: "Median to first compression", value: (r) => r.median_seconds_to_first_compression.value, show: (r) => fmtSeconds(r.median_seconds_to_first_compression.value) },
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

// ---- exports -------------------------------------------------------------------------------

// Fetched, then saved under the service's file name (http.js), so a refusal can be shown here.
const download = (path, params, fallback) =>
  reachable(() => httpDownload(`${path}?${params}`, { fallback }));

const EXPORTS = {
  "measures-csv": (q) => [["/api/v1/exports/measures.csv", apiParams(q), `measures-${q.agencies.join("+")}.csv`]],
  "measures-json": (q) => [["/api/v1/measures", apiParams(q, { bounds: boundsFor(q, q.agencies) }), `measures-${q.agencies.join("+")}.json`]],
  cares: (q) => q.agencies.map((a) => ["/api/v1/exports/cares.csv", apiParams(q, { single: a }), `cares-${a}.csv`]),
  nemsis: (q) => q.agencies.map((a) => ["/api/v1/exports/nemsis-linkage", apiParams(q, { single: a, bounds: boundsFor(q, [a]) }), `nemsis-linkage-${a}.xml`]),
  audits: (q) => q.agencies.map((a) => ["/api/v1/exports/audits.csv", apiParams(q, { single: a, bounds: boundsFor(q, [a]) }), `audits-${a}.csv`]),
};

async function exportClicked(button) {
  const q = state.query;
  if (!q) return;
  const out = $("#export-status");
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
    button.disabled = false;
  }
}

// ---- wiring --------------------------------------------------------------------------------

$("#signin").addEventListener("submit", (e) => { e.preventDefault(); signIn(readTokenInput()); });
$("#period").addEventListener("submit", (e) => { e.preventDefault(); load(formQuery()); });
for (const button of document.querySelectorAll("[data-export]")) button.addEventListener("click", () => exportClicked(button));
$("#print").addEventListener("click", () => window.print());
window.tcpr = { state, load };

resumeSession().then(({ me, reason }) => (me ? enter(me) : askForToken(reason || "Sign in with a qi or admin token to read the measures.")));
