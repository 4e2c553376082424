// Shared by the panels: the websocket connection with resume, the server-clock offset, and the
// console outbox. Clocks are drawn from each call's T0 plus the measured offset, never from
// server ticks. Console actions get their event ids here, in the browser, so an action re-sent
// after a lost connection is a harmless duplicate, never a second answer.
"use strict";

// A call is known by its agency and its CAD number together: two centres on one board may both
// have a call 24-0001, and neither may stand in for the other.
function callKey(call) { return `${call.agency}/${call.call_id}`; }

// Whether an alert a call raised still stands: what it asked for has not happened yet.
function alertStands(call, name) {
  if (name.startsWith("recognition")) return !call.recognized && !call.ruled_out;
  if (name.startsWith("compression")) return Boolean(call.recognized) && !call.first_compression_at && !call.not_given_reason;
  if (name === "dispatch_overdue") return Boolean(call.needs_dispatch);
  return true;
}

class Live {
  constructor({ onChange = () => {}, onAlert = () => {}, onStatus = () => {}, onSignedOut = () => {} } = {}) {
    this.calls = new Map();
    this.seq = 0;
    this.offsetMs = 0;
    this.me = null;
    this.signedIn = false;
    this.socket = null;
    this.backoff = 250;
    this.handlers = { onChange, onAlert, onStatus, onSignedOut };
    this.syncTimer = null;
    // agency -> the latest `feed` message saying its CAD feed is silent (service/feeds.py).
    this.feeds = new Map();
  }

  serverNow() { return Date.now() + this.offsetMs; }

  // The signed-in principal's agencies that take real calls: not its training agencies.
  realAgencies() { return this.me ? this.me.agencies.filter((a) => !this.me.trainingAgencies.includes(a)) : []; }

  // Signed in (session.js has the cookie set): connect, and stay connected until signed out.
  start() {
    this.signedIn = true;
    this.connect();
  }

  // The session ended (a 4401 close, or a 401 to a post): stop, and let the page ask again.
  signedOut(reason) {
    if (!this.signedIn) return;
    this.signedIn = false;
    this.me = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
    this.handlers.onStatus("signed-out", reason);
    this.handlers.onSignedOut(reason);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    socket.onopen = () => {
      // No token: the service authenticates the handshake's session cookie.
      const auth = { type: "auth" };
      if (this.seq) auth.since = this.seq;
      socket.send(JSON.stringify(auth));
      this.ping();
    };
    socket.onmessage = (e) => this.receive(JSON.parse(e.data));
    socket.onclose = (e) => {
      clearInterval(this.syncTimer);
      if (this.socket !== socket) return;
      if (e.code === 4401 || e.code === 4403) {
        this.signedOut(e.reason || SESSION_ENDED);
        return;
      }
      this.handlers.onStatus("reconnecting");
      setTimeout(() => this.connect(), this.backoff);
      // A panel mid-call must be back within a second of the service: retry at least that often.
      this.backoff = Math.min(this.backoff * 2, 1000);
    };
  }

  // For tests and for a supervisor who wants to force a resync.
  drop() { if (this.socket) this.socket.close(); }

  ping() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "ping", t: Date.now() }));
    }
  }

  receive(msg) {
    switch (msg.type) {
      case "snapshot":
        // A fresh picture of the live calls: the only state the panel shows is the store's.
        this.calls = new Map(msg.calls.map((c) => [callKey(c), { ...c, _seq: msg.seq }]));
        this.feeds = new Map(); // the service sends a `feed` message after it for each silent feed
        this.seq = msg.seq;
        this.offsetMs = Date.parse(msg.server_time) - Date.now();
        this.me = { role: msg.role, name: msg.name, agencies: msg.agencies, profiles: msg.profiles, trainingAgencies: msg.training_agencies || [] };
        this.liveCallMaxAgeSeconds = msg.live_call_max_age_seconds;
        this.backoff = 250;
        this.handlers.onStatus("live");
        clearInterval(this.syncTimer);
        this.syncTimer = setInterval(() => this.ping(), 30000);
        break;
      case "pong": {
        const now = Date.now();
        const rtt = now - msg.t;
        this.offsetMs = Date.parse(msg.server_time) + rtt / 2 - now;
        break;
      }
      case "call": {
        // Each call message is the call's whole view; an older one (queued before a snapshot)
        // never overwrites a newer one. Ended calls stay, marked, until the next snapshot.
        const known = this.calls.get(callKey(msg));
        if (!known || msg.seq >= known._seq) this.calls.set(callKey(msg), { ...msg.call, _seq: msg.seq });
        this.seq = Math.max(this.seq, msg.seq);
        break;
      }
      case "missed":
        this.seq = Math.max(this.seq, msg.seq);
        break;
      case "alert":
        this.handlers.onAlert(msg);
        break;
      case "gone":
        // The CAD never ended it: past the live-call limit it leaves the panels (not the audits).
        this.calls.delete(callKey(msg));
        break;
      case "feed":
        if (msg.status === "silent") this.feeds.set(msg.agency, msg);
        else this.feeds.delete(msg.agency);
        break;
    }
    this.handlers.onChange(msg);
  }

  // A call the CAD never ended is live only within the service's live-call limit: a later event
  // for it (a review, an EMS outcome, an acknowledgement) sends its view again, not the call back.
  liveCalls() {
    const limit = this.liveCallMaxAgeSeconds;
    const now = this.serverNow();
    return [...this.calls.values()].filter((c) => c.live && !(limit && now - Date.parse(c.t0) > limit * 1000));
  }

  // The agencies whose CAD feed is silent now, each `{agency, last_activity, silence_seconds}`.
  silentFeeds() { return [...this.feeds.values()]; }
}

// Console actions wait here until the store has them. Kept in sessionStorage, so a reload or a
// lost connection does not lose an answer; sent in order, one at a time.
class Outbox {
  constructor(live, { onChange = () => {}, onRefused = () => {} } = {}) {
    this.live = live;
    this.items = JSON.parse(sessionStorage.getItem("tcpr-outbox") || "[]");
    this.stored = []; // stored and acknowledged, not yet in the call's view: {...event, seq}
    this.sending = false;
    this.handlers = { onChange, onRefused };
    setInterval(() => this.flush(), 2000);
  }

  save() { sessionStorage.setItem("tcpr-outbox", JSON.stringify(this.items)); this.handlers.onChange(); }

  post(call, kind, data) {
    const event = {
      event_id: `con-${crypto.randomUUID()}`,
      call_id: call.call_id,
      agency: call.agency,
      kind,
      at: new Date(this.live.serverNow()).toISOString(),
      source: "console",
      actor: (this.live.me && this.live.me.name) || undefined,
      data: data || {},
    };
    this.items.push(event);
    this.save();
    this.flush();
    return event;
  }

  // This console's actions on the call not yet in its view: waiting to be sent, or stored with a
  // sequence number the call's view has not reached yet (a slow broker, another replica).
  pendingFor(call) {
    // A stored action waits no more once its call's view has reached it (or left the view).
    this.stored = this.stored.filter((e) => { const view = this.live.calls.get(callKey(e)); return view && view._seq < e.seq; });
    const key = callKey(call);
    return [...this.items, ...this.stored].filter((e) => callKey(e) === key);
  }

  async flush() {
    if (this.sending || !this.items.length || !this.live.signedIn) return;
    this.sending = true;
    try {
      while (this.items.length) {
        const event = this.items[0];
        let response;
        try {
          response = await fetch("/api/v1/events", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(event),
          });
        } catch (err) {
          return; // offline: try again later, same id
        }
        if (response.status === 401) { this.live.signedOut(SESSION_ENDED); return; } // kept for the next sign-in
        if (response.status >= 500) return;
        if (response.status !== 200) {
          const body = await response.json().catch(() => ({}));
          this.handlers.onRefused(event, body.detail || response.statusText);
        } else {
          // Stored, but the card moves on only when the call's view shows it: until then the
          // action still counts as waiting, so a second key is not a second answer.
          const body = await response.json().catch(() => ({}));
          if (Number.isInteger(body.seq)) this.stored.push({ ...event, seq: body.seq });
        }
        this.items.shift();
        this.save();
      }
    } finally {
      this.sending = false;
    }
  }
}

function fmtClock(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// One interval clock: elapsed from T0 to `doneAt` (or now), classed warn / late / met.
function clockState(live, call, doneAt, warnKey, lateKey) {
  const t0 = Date.parse(call.t0);
  if (Number.isNaN(t0)) return { text: "—", cls: "" };
  const end = doneAt ? Date.parse(doneAt) : (call.live ? live.serverNow() : null);
  if (end == null) return { text: "—", cls: "" };
  const warn = Date.parse(call.deadlines[warnKey]);
  const late = Date.parse(call.deadlines[lateKey]);
  let cls = "";
  // A ruled-out call still counts from T0 (arrest may yet come) but is racing no benchmark; nor
  // is the compression clock of a call where T-CPR was not given (a reason, not a miss).
  const racing = !(warnKey.startsWith("recognition") && call.ruled_out)
    && !(warnKey.startsWith("compression") && call.not_given_reason);
  if (doneAt) cls = end < late ? "met" : "late";
  else if (!racing) cls = "";
  else if (end >= late) cls = "late";
  else if (end >= warn) cls = "warn";
  return { text: fmtClock((end - t0) / 1000), cls };
}
