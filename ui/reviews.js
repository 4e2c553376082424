// My reviews: the QI reviews of this telecommunicator's own calls (GET /api/v1/feedback), read
// between calls and acknowledged from the keyboard with a `feedback.acknowledged` console event.
//
// The view never stands over a live call: the panel asks `blocking()` for the calls that need
// this console (its own, one nobody has answered yet, one alerting) and the view neither opens
// while there is one nor stays open when one comes in. An acknowledgement shows as such only once
// the store has it: it goes through the panel's outbox, then the list is read again.
//
// These texts are the panel's own, not the protocol pack's: a pack is what a medical director
// signs and is checked key for key against the shipped one, so reading one's reviews must not
// make every agency's signed pack out of date.
"use strict";

const REVIEW_TEXTS = {
  en: {
    title: "My reviews",
    button: "My reviews",
    key: "F my reviews (between calls)",
    help: "↑ ↓ or J K choose · Enter I have read it · Esc back to calls",
    unread: "{n} new",
    empty: "No reviewed calls of yours yet.",
    loading: "Loading your reviews…",
    failed: "Your reviews could not be loaded ({status}). Trying again shortly.",
    not_saved: "Not saved: the store did not take your acknowledgement. Press Enter to try again.",
    blocked: "My reviews open between calls: {calls} needs you now.",
    yielded: "My reviews closed: {calls} needs you.",
    blocked_many: "My reviews open between calls: {calls} need you now.",
    yielded_many: "My reviews closed: {calls} need you.",
    recognition: "Recognition",
    compression: "First compression",
    met: "met",
    missed: "missed",
    not_reached: "not reached",
    under: "under {limit}",
    feedback: "Reviewer's feedback",
    no_feedback: "No written feedback.",
    signed_off: "Signed off",
    draft: "Draft: the reviewer may still change it",
    reviewed: "reviewed {when}",
    outcome: "EMS outcome",
    no_outcome: "No EMS outcome linked yet.",
    ohca: "Cardiac arrest confirmed by EMS",
    not_ohca: "EMS: not a cardiac arrest",
    rosc: "Return of circulation (ROSC)",
    survived: "Survived",
    yes: "yes",
    no: "no",
    new: "New",
    acknowledged: "Acknowledged",
    saving: "saving…",
    acknowledge: "I have read it",
    not_recognized: "Arrest not recognised on the call",
  },
  es: {
    title: "Mis revisiones",
    button: "Mis revisiones",
    key: "F mis revisiones (entre llamadas)",
    help: "↑ ↓ o J K elegir · Enter lo he leído · Esc volver a las llamadas",
    unread: "{n} nuevas",
    empty: "Todavía no hay llamadas suyas revisadas.",
    loading: "Cargando sus revisiones…",
    failed: "No se pudieron cargar sus revisiones ({status}). Se reintentará en breve.",
    not_saved: "No guardado: el registro no aceptó su confirmación. Pulse Enter para reintentar.",
    blocked: "Mis revisiones se abren entre llamadas: {calls} le necesita ahora.",
    yielded: "Mis revisiones cerradas: {calls} le necesita.",
    blocked_many: "Mis revisiones se abren entre llamadas: {calls} le necesitan ahora.",
    yielded_many: "Mis revisiones cerradas: {calls} le necesitan.",
    recognition: "Reconocimiento",
    compression: "Primera compresión",
    met: "cumplido",
    missed: "no cumplido",
    not_reached: "no alcanzado",
    under: "menos de {limit}",
    feedback: "Comentarios del revisor",
    no_feedback: "Sin comentarios escritos.",
    signed_off: "Firmada",
    draft: "Borrador: el revisor aún puede cambiarla",
    reviewed: "revisada {when}",
    outcome: "Resultado de EMS",
    no_outcome: "Aún no hay resultado de EMS vinculado.",
    ohca: "Paro cardíaco confirmado por EMS",
    not_ohca: "EMS: no fue un paro cardíaco",
    rosc: "Retorno de la circulación (RCE)",
    survived: "Sobrevivió",
    yes: "sí",
    no: "no",
    new: "Nueva",
    acknowledged: "Leída",
    saving: "guardando…",
    acknowledge: "Lo he leído",
    not_recognized: "Paro no reconocido durante la llamada",
  },
};

const REVIEWS_REFRESH_MS = 60000;

class MyReviews {
  // `blocking()`: the live calls that keep the view closed; `onChange()`: redraw the panel.
  constructor({ live, outbox, blocking, onChange }) {
    this.live = live;
    this.outbox = outbox;
    this.blocking = blocking;
    this.onChange = onChange;
    this.open = false;
    this.items = null;       // the last answer of GET /api/v1/feedback, or null before one
    this.error = null;       // the status of the last failed read
    this.loadedFor = null;   // whose reviews `items` are
    this.loading = false;
    this.selected = null;    // the review (event id) chosen
    this.sending = new Map(); // review id -> the id of its feedback.acknowledged in the outbox
    this.answered = new Set(); // reviews whose acknowledgement left the outbox, until a read
    this.generation = 0;      // of reads: only the latest one's answer is kept
    this.unsaved = new Set(); // reviews whose acknowledgement the store did not take
    setInterval(() => { if (this.live.signedIn) this.refresh(); }, REVIEWS_REFRESH_MS);
  }

  texts() {
    const lang = (document.documentElement.lang || "en").split("-")[0];
    return REVIEW_TEXTS[lang] || REVIEW_TEXTS.en;
  }

  t(name, values = {}) {
    return this.texts()[name].replace(/\{(\w+)\}/g, (m, key) => (key in values ? values[key] : m));
  }

  // `name`'s text about the calls that need the telecommunicator ("L1 needs", "L1, L2 need").
  needing(name, calls) {
    return this.t(calls.length > 1 ? `${name}_many` : name, { calls: calls.map((c) => c.call_id).join(", ") });
  }

  // Unacknowledged first, then the read ones, each newest review first (the answer's order).
  ordered() {
    const items = this.items || [];
    return [...items.filter((i) => !i.acknowledged), ...items.filter((i) => i.acknowledged)];
  }

  unread() { return (this.items || []).filter((i) => !i.acknowledged).length; }

  // Read the list again. A later read supersedes one still under way; the acknowledgements the
  // outbox had sent before a read began are judged by that read's answer.
  async refresh() {
    if (!this.live.signedIn) return;
    const generation = ++this.generation;
    const judged = [...this.answered];
    this.loading = true;
    try {
      const response = await fetch("/api/v1/feedback", { credentials: "same-origin" });
      if (generation !== this.generation) return;
      if (response.status === 401) { this.live.signedOut(SESSION_ENDED); return; }
      if (!response.ok) { this.error = response.status; return; }
      const items = await response.json();
      if (generation !== this.generation) return;
      this.items = items;
      this.error = null;
      this.loadedFor = this.live.me && this.live.me.name;
      const done = new Set(items.filter((i) => i.acknowledged).map((i) => i.review));
      for (const review of judged) {
        this.answered.delete(review);
        if (!done.has(review)) this.unsaved.add(review);
      }
    } catch {
      if (generation === this.generation) this.error = "offline";
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.onChange();
      }
    }
  }

  // Called on every redraw: the first read once signed in, and a read again for each
  // acknowledgement the outbox has sent (accepted or refused: the answer says which).
  sync() {
    if (!this.live.signedIn) { if (this.items || this.open) this.reset(); return; }
    const me = this.live.me && this.live.me.name;
    if (me && this.loadedFor !== me && !this.loading && this.error == null) this.refresh();
    const queued = new Set(this.outbox.items.map((e) => e.event_id));
    const sent = [...this.sending].filter(([, eventId]) => !queued.has(eventId)).map(([review]) => review);
    if (!sent.length) return;
    for (const review of sent) { this.sending.delete(review); this.answered.add(review); }
    this.refresh();
  }

  reset() {
    this.open = false;
    this.items = null;
    this.loadedFor = null;
    this.selected = null;
    this.sending.clear();
    this.answered.clear();
    this.unsaved.clear();
    this.generation += 1; // a read under way is for whoever was signed in
    this.loading = false;
    this.error = null;
  }

  // The panel's F key and button. Returns the refusal to show, or null.
  toggle() {
    if (this.open) { this.open = false; return null; }
    if (!this.live.signedIn) return null; // signed out: nobody's reviews to show
    const calls = this.blocking();
    if (calls.length) return this.needing("blocked", calls);
    this.open = true;
    this.refresh();
    return null;
  }

  // A call that needs this console closes the view at once: the calls that did, or null.
  yieldTo() {
    if (!this.open) return null;
    const calls = this.blocking();
    if (!calls.length) return null;
    this.open = false;
    return calls;
  }

  // A key while the view is open: true when it was the view's.
  key(key) {
    const items = this.ordered();
    const at = Math.max(0, items.findIndex((i) => i.review === this.selected));
    if (key === "escape") this.open = false;
    else if (key === "arrowdown" || key === "j") this.select(items[Math.min(items.length - 1, at + 1)]);
    else if (key === "arrowup" || key === "k") this.select(items[Math.max(0, at - 1)]);
    else if (key === "home") this.select(items[0]);
    else if (key === "end") this.select(items[items.length - 1]);
    else if (key === "enter") this.acknowledge(items[at]);
    else return false;
    return true;
  }

  select(item) { if (item) this.selected = item.review; }

  acknowledge(item) {
    if (!item || item.acknowledged || this.sending.has(item.review)) return;
    this.unsaved.delete(item.review);
    const event = this.outbox.post(item, "feedback.acknowledged", { review: item.review });
    this.sending.set(item.review, event.event_id);
  }

  // -- drawing ----------------------------------------------------------------------------------
  static node(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v != null && v !== false) node.setAttribute(k, v);
    }
    node.append(...children.filter((c) => c != null));
    return node;
  }

  // "2026-02-03 10:00" in this browser's time zone: the floor's clock, not UTC.
  static localDateTime(iso) {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "—";
    const pad = (n) => String(n).padStart(2, "0");
    return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
  }

  // One interval against its benchmark: the figure, ✓ / ✗ / not reached, and a bar with the
  // benchmark at its middle (the bar runs to twice the benchmark; later is drawn full).
  benchmark(name, seconds, limit, met) {
    const h = MyReviews.node;
    const state = met === true ? "met" : met === false ? "missed" : "not_reached";
    const mark = met === true ? "✓" : met === false ? "✗" : ""; // not reached: said in words
    const bar = h("div", { class: "bench-fill" });
    // Through the CSSOM: the content security policy refuses style attributes.
    bar.style.width = `${seconds == null ? 0 : Math.min(100, (seconds / (2 * limit)) * 100).toFixed(1)}%`;
    return h("div", { class: `bench ${state}`, "data-bench": name, "data-state": state },
      h("div", { class: "bench-label" }, this.t(name === "recognition" ? "recognition" : "compression")),
      h("div", { class: "bench-figure" },
        h("span", { class: "bench-value" }, seconds == null ? "—" : fmtClock(seconds)),
        h("span", { class: "bench-mark", "aria-hidden": "true" }, mark),
        h("span", { class: "bench-state" }, this.t(state)),
        h("span", { class: "bench-limit" }, this.t("under", { limit: fmtClock(limit) }))),
      h("div", { class: "bench-bar", "aria-hidden": "true" }, bar, h("div", { class: "bench-tick" })));
  }

  outcome(item) {
    const h = MyReviews.node;
    const o = item.ems_outcome;
    if (!o || !Object.keys(o).length) return h("div", { class: "outcome none" }, this.t("no_outcome"));
    const yesNo = (v) => this.t(v ? "yes" : "no");
    const parts = [];
    if (o.ohca === false) parts.push(h("span", { "data-outcome": "ohca" }, this.t("not_ohca")));
    else if (o.ohca === true) parts.push(h("span", { "data-outcome": "ohca" }, this.t("ohca")));
    if (typeof o.rosc === "boolean") parts.push(h("span", { "data-outcome": "rosc", class: o.rosc ? "good" : "" }, `${this.t("rosc")}: ${yesNo(o.rosc)}`));
    if (typeof o.survived === "boolean") parts.push(h("span", { "data-outcome": "survived", class: o.survived ? "good" : "" }, `${this.t("survived")}: ${yesNo(o.survived)}`));
    return h("div", { class: "outcome" }, h("span", { class: "outcome-title" }, `${this.t("outcome")}:`), ...parts);
  }

  item(item, selected, several) {
    const h = MyReviews.node;
    const sending = this.sending.has(item.review);
    const state = item.acknowledged ? "acknowledged" : sending ? "saving" : "new";
    const limits = item.thresholds || { recognition_s: 90, first_compression_s: 150 };
    const li = h("li", {
      class: ["review", selected ? "selected" : "", item.acknowledged ? "read" : "unread"].join(" ").trim(),
      "data-review": item.review, "data-call-id": item.call_id, "data-state": state,
      "aria-current": selected ? "true" : null,
      onclick: () => { this.selected = item.review; this.onChange(); },
    },
    h("div", { class: "review-head" },
      h("span", { class: "review-call" }, item.call_id),
      h("span", { class: "review-when" }, MyReviews.localDateTime(item.t0)),
      several ? h("span", { class: "review-agency" }, item.agency) : null,
      h("span", { class: `review-sign ${item.signed_off ? "signed" : "draft"}` }, this.t(item.signed_off ? "signed_off" : "draft")),
      h("span", { class: `review-state ${state}` }, this.t(state === "saving" ? "saving" : state === "new" ? "new" : "acknowledged"))),
    h("div", { class: "benches" },
      this.benchmark("recognition", item.intervals.to_recognition, limits.recognition_s, item.benchmarks.recognition_met),
      this.benchmark("compression", item.intervals.to_first_compression, limits.first_compression_s, item.benchmarks.first_compression_met)),
    item.recognized ? null : h("div", { class: "review-note" }, this.t("not_recognized")),
    h("div", { class: "review-feedback-title" }, `${this.t("feedback")} · ${this.t("reviewed", { when: MyReviews.localDateTime(item.reviewed_at) })}`),
    h("blockquote", { class: item.feedback ? "review-feedback" : "review-feedback none" }, item.feedback || this.t("no_feedback")),
    this.outcome(item));
    if (this.unsaved.has(item.review)) li.append(h("div", { class: "review-error", role: "alert" }, this.t("not_saved")));
    if (selected && !item.acknowledged) {
      li.append(h("button", {
        type: "button", class: "primary review-ack", disabled: sending,
        onclick: (e) => { e.stopPropagation(); this.acknowledge(item); this.onChange(); },
      }, h("kbd", {}, "Enter"), this.t("acknowledge")));
    }
    return li;
  }

  // The header button (with its count of unread reviews) and, while open, the view.
  render(section, button) {
    const h = MyReviews.node;
    const unread = this.unread();
    button.replaceChildren(this.t("button"), unread ? h("span", { class: "badge", "aria-label": this.t("unread", { n: unread }) }, String(unread)) : "");
    button.setAttribute("aria-pressed", String(this.open));
    section.hidden = !this.open;
    if (!this.open) { section.querySelector("#reviews-list").replaceChildren(); return; }
    const items = this.ordered();
    if (!items.some((i) => i.review === this.selected)) this.selected = items.length ? items[0].review : null;
    const several = Boolean(this.live.me && this.live.me.agencies.length > 1);
    section.querySelector("#reviews-title").textContent = unread ? `${this.t("title")} · ${this.t("unread", { n: unread })}` : this.t("title");
    section.querySelector("#reviews-help").textContent = this.t("help");
    const status = this.items == null
      ? (this.error != null ? this.t("failed", { status: this.error }) : this.t("loading"))
      : (this.error != null ? this.t("failed", { status: this.error }) : items.length ? "" : this.t("empty"));
    const statusNode = section.querySelector("#reviews-status");
    if (statusNode.textContent !== status) statusNode.textContent = status;
    statusNode.hidden = !status;
    const list = section.querySelector("#reviews-list");
    list.replaceChildren(...items.map((i) => this.item(i, i.review === this.selected, several)));
    const chosen = list.querySelector("li.selected");
    if (chosen && chosen.dataset.review !== this.shownSelected) chosen.scrollIntoView({ block: "nearest" });
    this.shownSelected = chosen ? chosen.dataset.review : null;
  }
}
