// Training page: each person's T-CPR training hours against the AHA rule (initial 3–4 h,
// continuing 2–3 h in each 12 months), their status in words and colour, when they lapse if
// nothing is added, the scenarios QI review suggests they practise, their records; a form for a
// supervisor to enter classroom or online training, and the centre's CSVs. Everything shown is
// what GET /api/v1/training/hours answers: nothing is computed here.
import { HttpError, download, request } from "./http.js";

const $ = (sel) => document.querySelector(sel);
const ENTER_ROLES = new Set(["supervisor", "admin"]);
const EXPORT_ROLES = new Set(["supervisor", "qi", "admin"]);
const READ_ROLES = new Set(["telecommunicator", "supervisor", "qi", "admin"]);

const STATUS = {
  compliant: { text: "Compliant", cls: "ok" },
  initial_incomplete: { text: "Initial training incomplete", cls: "bad" },
  ce_due: { text: "Continuing education due", cls: "bad" },
};
const SCENARIOS = {
  classic_arrest: "Classic arrest (the script, in order, at pace)",
  agonal_breathing: "Agonal breathing",
  caller_refuses: "Caller refuses / distressed caller",
  transfer: "Transfer from another PSAP",
  infant: "Infant",
  caller_alone: "Caller alone / not with the patient",
  spanish_caller: "Spanish-speaking caller",
};
const FIELDS = { person: "#e-person", category: "#e-category", kind: "#e-kind", title: "#e-title", minutes: "#e-minutes", taken_at: "#e-taken" };

const state = { me: null, answer: null, open: new Set() };

const words = (code) => code.replaceAll("_", " ");
// 240 → "4 h", 90 → "1.5 h", 95 → "1.58 h".
const hours = (minutes) => `${Number((minutes / 60).toFixed(2))} h`;

function day(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: state.answer?.zone || undefined });
}


// ---- sign-in -------------------------------------------------------------------------------

function askForToken(reason) {
  state.me = null;
  offerSignOut(false, () => askForToken("Signed out."));
  $("#signin-reason").textContent = reason || "Sign in with a supervisor, QI, admin or telecommunicator token.";
  $("#signin").hidden = false;
  $("#content").hidden = true;
  $("#who").textContent = "";
  $("#token").focus();
}

async function enter(me) {
  if (!READ_ROLES.has(me.role)) return askForToken(`A ${me.role} token has no training page. Sign in with another token.`);
  state.me = me;
  $("#signin").hidden = true;
  offerSignOut(true, () => askForToken("Signed out."));
  $("#who").textContent = `${me.name || "unnamed"} · ${me.role} · ${me.agencies.join(", ")}`;
  const wanted = new URLSearchParams(location.search).get("agency");
  // A trainee's hours are kept in their own agency (a session credits it there): a training
  // agency has no one's hours to show, so it is offered only to a token with nothing else.
  const training = new Set(me.training_agencies || []);
  const real = me.agencies.filter((a) => !training.has(a));
  const offered = real.length ? real : me.agencies;
  $("#agency").replaceChildren(...offered.map((a) => el("option", { value: a, text: a })));
  if (wanted && offered.includes(wanted)) $("#agency").value = wanted;
  $("#agency-label").hidden = offered.length < 2;
  $("#enter-section").hidden = !ENTER_ROLES.has(me.role);
  $("#export-section").hidden = !EXPORT_ROLES.has(me.role);
  $("#e-taken").max = new Date().toISOString().slice(0, 10);
  $("#content").hidden = false;
  await load();
}

$("#signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await enter(await openSession(readTokenInput()));
  } catch (err) {
    askForToken(err.message);
  }
});

// ---- the people ------------------------------------------------------------------------------

function params() {
  const p = new URLSearchParams({ agency: $("#agency").value });
  if ($("#as-of").value) p.set("as_of", $("#as-of").value);
  return p;
}

function failed(err) {
  if (err instanceof HttpError && err.status === 401) return askForToken(SESSION_ENDED);
  $("#error").textContent = err instanceof HttpError ? err.message : "The service cannot be reached. Try again in a moment.";
  $("#error").hidden = false;
}

// Each load is numbered: an answer that comes back after a newer load began (the page's first
// look, as of today, overtaken by a date typed meanwhile) is not shown over the newer one.
let loads = 0;

async function load() {
  const mine = ++loads;
  $("#status").textContent = "Loading…";
  $("#error").hidden = true;
  let answer;
  try {
    answer = await (await request(`/api/v1/training/hours?${params()}`)).json();
  } catch (err) {
    if (mine !== loads) return;
    $("#status").textContent = "";
    return failed(err);
  }
  if (mine !== loads) return;
  state.answer = answer;
  history.replaceState(null, "", `${location.pathname}?${new URLSearchParams({ agency: $("#agency").value })}`);
  render();
  $("#status").textContent = `As of ${day(state.answer.as_of)}.`;
}

function statusCell(p) {
  const s = STATUS[p.status];
  const td = el("td", {}, el("span", { class: `badge ${s.cls}`, text: s.text }));
  return td;
}

function initialCell(p, rule) {
  const td = el("td", { class: "num" }, `${hours(p.initial_minutes)} of ${hours(rule.initial_minimum_minutes)}`);
  if (p.initial_completed_at) td.append(el("div", { class: "muted small", text: `complete ${day(p.initial_completed_at)}` }));
  return td;
}

function continuingCell(p, rule) {
  const td = el("td", { class: "num" }, `${hours(p.continuing_minutes)} of ${hours(rule.continuing_minimum_minutes)}`);
  if (p.continuing_not_yet_due) td.append(el("div", { class: "muted small", text: `not yet due: from ${day(p.continuing_required_from)}` }));
  return td;
}

function dueCell(p) {
  if (p.status !== "compliant") return el("td", { text: p.status === "ce_due" ? "now" : "initial training first" });
  if (!p.continuing_due_on) return el("td", { class: "muted", text: "not within 60 days" });
  return el("td", {}, el("span", { class: "badge soon", text: `due ${day(p.continuing_due_on)}` }),
    el("div", { class: "muted small", text: `within ${p.due_soon} days, unless more training is entered` }));
}

function needsCell(p) {
  const td = el("td");
  const { suggestions, unmapped, reviewed_calls: reviewed } = p.needs;
  if (!suggestions.length && !unmapped.length) {
    td.append(el("span", { class: "muted", text: reviewed ? `nothing coded in ${reviewed} reviewed call${reviewed === 1 ? "" : "s"}` : "no reviewed calls" }));
    return td;
  }
  const list = el("ol", { class: "needs" });
  for (const s of suggestions) {
    const why = s.reasons.map((r) => `${words(r.code)} (${r.kind === "delay" ? "delay" : "not recognised"}, ${r.count}×)`).join("; ");
    list.append(el("li", { "data-scenario": s.scenario }, el("strong", { text: SCENARIOS[s.scenario] || words(s.scenario) }), el("span", { class: "muted small", text: ` — ${why}` })));
  }
  td.append(list);
  if (unmapped.length) td.append(el("div", { class: "muted small", text: `Also coded: ${unmapped.map((r) => `${words(r.code)} (${r.count}×)`).join(", ")}` }));
  return td;
}

function recordsButton(p, detailId) {
  const n = p.records.length;
  const open = state.open.has(p.person);
  const button = el("button", { type: "button", "aria-expanded": String(open), "aria-controls": detailId, text: `${open ? "Hide" : "Show"} ${n} record${n === 1 ? "" : "s"}` });
  button.disabled = n === 0;
  button.addEventListener("click", () => {
    if (state.open.has(p.person)) state.open.delete(p.person); else state.open.add(p.person);
    render();
    document.querySelector(`button[aria-controls="${detailId}"]`)?.focus();
  });
  return el("td", {}, button);
}

function recordsTable(p) {
  const canRemove = ENTER_ROLES.has(state.me.role);
  const rows = p.records.map((r) => {
    const tr = el("tr", {},
      el("td", { text: day(r.taken_at) }), el("td", { text: r.category }), el("td", { text: r.kind }),
      el("td", { text: r.title }), el("td", { class: "num", text: `${r.minutes} min` }),
      el("td", { class: "small", text: `${r.entered_by}, ${day(r.entered_at)}` }));
    const action = el("td");
    if (canRemove && r.session_id == null) {
      const remove = el("button", { type: "button", class: "quiet", text: "Remove", "aria-label": `Remove ${r.title} of ${day(r.taken_at)}` });
      remove.addEventListener("click", () => removeRecord(r));
      action.append(remove);
    } else if (r.session_id != null) action.append(el("span", { class: "muted small", text: "from a session" }));
    tr.append(action);
    return tr;
  });
  return el("table", { class: "records", "aria-label": `Training records of ${p.person}` },
    el("thead", {}, el("tr", {}, ...["Taken", "Category", "Kind", "Title", "Time", "Entered by", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows));
}

function render() {
  const { people, counts, rule } = state.answer;
  const body = [];
  people.forEach((p, i) => {
    const detailId = `records-${i}`;
    body.push(el("tr", { "data-person": p.person, class: `person ${STATUS[p.status].cls}` },
      el("th", { scope: "row", text: p.person }), statusCell(p), initialCell(p, rule), continuingCell(p, rule),
      dueCell(p), needsCell(p), recordsButton(p, detailId)));
    const detail = el("tr", { id: detailId, class: "detail" }, el("td", { colspan: "7" }, state.open.has(p.person) ? recordsTable(p) : null));
    detail.hidden = !state.open.has(p.person);
    body.push(detail);
  });
  $("#people tbody").replaceChildren(...body);
  $("#empty").hidden = people.length > 0;
  $("#counts").textContent = people.length > 1
    ? `${counts.people} · ${counts.out_of_compliance} out of compliance · ${counts.due_within_60_days} due within 60 days`
    : "";
  $("#known-people").replaceChildren(...people.map((p) => el("option", { value: p.person })));
}

async function removeRecord(r) {
  const reason = prompt(`Remove "${r.title}" (${r.minutes} min, ${day(r.taken_at)}) of ${r.person}? Say why; the access log keeps the record, who removed it and why.`, "entered by mistake");
  if (reason == null) return;
  try {
    await request(`/api/v1/training/records/${r.id}?${new URLSearchParams({ reason: reason.slice(0, 200) })}`, { method: "DELETE" });
  } catch (err) {
    return failed(err);
  }
  await load();
  $("#status").textContent = `Removed "${r.title}" of ${r.person}.`;
}

$("#scope").addEventListener("submit", (e) => { e.preventDefault(); load(); });
// The table, the entry form and the CSVs all follow the agency chosen: shown at once, never
// one agency's people under another's name.
$("#agency").addEventListener("change", () => load());

// ---- entering training -----------------------------------------------------------------------

function markInvalid(field, message) {
  for (const sel of Object.values(FIELDS)) $(sel).removeAttribute("aria-invalid");
  $("#enter-status").textContent = message;
  if (field && FIELDS[field]) {
    $(FIELDS[field]).setAttribute("aria-invalid", "true");
    $(FIELDS[field]).focus();
  }
}

// The field a refusal names: {"detail": {"field"}} or FastAPI's [{"loc": [..., field]}].
function fieldOf(message) {
  return Object.keys(FIELDS).find((f) => message.startsWith(`${f}:`) || message.includes(`'${f}'`) || message.includes(` ${f} `)) || null;
}

$("#enter").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {
    agency: $("#agency").value,
    person: $("#e-person").value.trim(),
    category: $("#e-category").value,
    kind: $("#e-kind").value,
    title: $("#e-title").value.trim(),
    minutes: Number($("#e-minutes").value),
    taken_at: $("#e-taken").value,
  };
  if (!body.person) return markInvalid("person", "Enter the person's name (as on their token or the CAD).");
  if (!body.title) return markInvalid("title", "Enter a title for the training.");
  if (!Number.isInteger(body.minutes) || body.minutes < 1 || body.minutes > 960) return markInvalid("minutes", "Enter whole minutes from 1 to 960.");
  if (!body.taken_at) return markInvalid("taken_at", "Enter the date the training was taken.");
  let stored;
  try {
    const response = await fetch("/api/v1/training/records", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) return askForToken(SESSION_ENDED);
    if (!response.ok) {
      const d = answer.detail;
      const message = typeof d === "string" ? d : d?.detail || (Array.isArray(d) ? d.map((x) => `${x.loc?.at(-1)}: ${x.msg}`).join("; ") : `refused (${response.status})`);
      const field = d?.field || (Array.isArray(d) ? d[0]?.loc?.at(-1) : null) || fieldOf(message);
      return markInvalid(field, `Not entered: ${message}`);
    }
    stored = answer;
  } catch {
    return markInvalid(null, "Not entered: the service cannot be reached.");
  }
  markInvalid(null, `Entered ${stored.minutes} min of ${stored.category} training for ${stored.person}.`);
  $("#e-title").value = "";
  $("#e-minutes").value = "";
  await load();
});

// ---- exports ---------------------------------------------------------------------------------

for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", async () => {
    const p = params();
    p.set("view", button.dataset.view);
    $("#export-status").textContent = "Preparing…";
    try {
      const name = await download(`/api/v1/exports/training.csv?${p}`);
      $("#export-status").textContent = `Saved ${name}.`;
    } catch (err) {
      $("#export-status").textContent = `Export failed: ${err.message}`;
    }
  });
}

resumeSession().then(({ me, reason }) => (me ? enter(me) : askForToken(reason)));
