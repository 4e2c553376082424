// Printable audits: the calls of the query string's filters (the audit list's own: agency, from,
// to, telecommunicator, missed, unreviewed, unsigned, population, sample and seed, or call_id for
// one call), one call per printed page, from the same full drafts as the JSON export.
import { HttpError, api, el, fmtTime, renderAudit, sampleText } from "./qi-audit.js";

const status = document.querySelector("#status");

function describe(params) {
  const parts = [`agency ${params.get("agency")}`];
  if (params.get("call_id")) parts.push(`call ${params.get("call_id")}`);
  if (params.get("from")) parts.push(`from ${params.get("from")}`);
  if (params.get("to")) parts.push(`before ${params.get("to")}`);
  if (params.get("telecommunicator")) parts.push(`telecommunicator ${params.get("telecommunicator")}`);
  for (const flag of ["missed", "unreviewed", "unsigned", "population"]) if (params.get(flag) === "true") parts.push(flag);
  return parts.join(" · ");
}

async function render() {
  const params = new URLSearchParams(location.search);
  if (!params.get("agency")) { status.textContent = "No agency given: open this page from the audit review page."; return; }
  const { me, reason } = await resumeSession();
  if (!me) { status.textContent = reason || "Not signed in: sign in on the audit review page, then open this page from there."; return; }
  let body;
  try {
    body = await api(`/api/v1/exports/audits.json?${params}`);
  } catch (err) {
    status.textContent = err instanceof HttpError ? `Refused: ${err.message}` : "The service could not be reached.";
    return;
  }
  const drawn = body.sample ? ` · ${sampleText(body.sample)}` : "";
  const printed = `Printed ${fmtTime(new Date().toISOString().replace("Z", "+00:00"))} · ${describe(params)}${drawn}`;
  document.querySelector("#audits").replaceChildren(...body.audits.map((audit, i) => el("section", {
    class: "audit-page", "aria-label": `Call ${audit.call_id}`,
  }, el("p", { class: "running", text: `${printed} · ${i + 1} of ${body.audits.length}` }), renderAudit(audit))));
  status.textContent = `${body.sample ? `${sampleText(body.sample)}. ` : ""}${body.audits.length ? `${body.audits.length} audit${body.audits.length > 1 ? "s" : ""}, one per printed page.` : "No calls match these filters."}`;
  document.body.dataset.ready = "true";
}

document.querySelector("#print").addEventListener("click", () => window.print());
render();
