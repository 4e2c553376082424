// Browser sign-in, shared by every page. A token (typed, or brought by a `#token=` link) is
// exchanged at once for a session cookie the service sets HttpOnly and SameSite=Strict, then
// forgotten: no token stays in storage, a global or the address bar, where an injected script or
// a shared screen could take it. Every request and the websocket then ride on the cookie.
"use strict";

// One element, for every page: `class`, `text` (its text), `on<event>` (a listener), any other
// attribute; children appended, null ones left out. Text is always text, never markup.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}


class SignInError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const SESSION_ENDED = "Your session has ended (signed out, expired or revoked). Sign in again.";

async function sessionCall(method, body) {
  let response;
  try {
    response = await fetch("/api/v1/session", {
      method,
      credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new SignInError(0, "The service cannot be reached. Try again in a moment.");
  }
  if (response.ok) return response.status === 204 ? null : response.json();
  const answer = await response.json().catch(() => ({}));
  const detail = typeof answer.detail === "string" ? answer.detail : response.statusText;
  throw new SignInError(response.status, response.status === 401
    ? `That token was refused (unknown, expired or revoked): ${detail}.`
    : `Sign-in failed (${response.status}): ${detail}.`);
}

// Exchange `token` for a session; the answer says who it is: {role, agencies, name, expires_at}.
function openSession(token) { return sessionCall("POST", { token }); }

// Who this browser is signed in as, or null when it is not (no cookie, or the session ended).
async function currentSession() {
  try {
    return await sessionCall("GET");
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

// A `#token=` link (as `make run` prints): take the token out of the address bar at once.
function tokenFromLink() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) history.replaceState(null, "", location.pathname + location.search);
  return token;
}

// On page load: a link's token opens a new session, else the cookie's session (if any) goes on.
// Resolves to {me} or {me: null, reason} with the reason to show beside the sign-in form.
async function resumeSession() {
  // Tokens were kept in sessionStorage before sessions existed: leave none behind.
  sessionStorage.removeItem("tcpr-token");
  const token = tokenFromLink();
  try {
    return { me: token ? await openSession(token) : await currentSession() };
  } catch (err) {
    return { me: null, reason: err.message };
  }
}

// Sign out: end the session (the service clears the cookie). Nothing to forget on this side.
async function closeSession() {
  try { await sessionCall("DELETE"); } catch { /* signed out already, or offline: either way */ }
}

// The page's "Sign out" button (#signout): shown while signed in; `then` redraws the page.
function offerSignOut(signedIn, then) {
  const button = document.querySelector("#signout");
  if (!button) return;
  button.hidden = !signedIn;
  button.onclick = async () => { button.disabled = true; await closeSession(); button.disabled = false; button.hidden = true; then(); };
}

// A sign-in form: its token input is cleared as soon as it is read.
function readTokenInput() {
  const input = document.querySelector("#token");
  const token = input.value.trim();
  input.value = "";
  return token;
}

// The live pages' sign-in (board, panel): the form (#signin) opens a session and `live` follows
// it; a refused token goes back to `askToSignIn(reason)`. Returns the page's "signed in" step.
function signInForLive(live, askToSignIn) {
  const form = document.querySelector("#signin");
  const signedIn = () => {
    form.hidden = true;
    offerSignOut(true, () => { live.signedOut("Signed out."); });
    live.start();
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await openSession(readTokenInput());
    } catch (err) {
      return askToSignIn(err.message);
    }
    signedIn();
  });
  return signedIn;
}
