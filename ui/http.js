// The QI pages' HTTP client: same-origin requests signed in by the session cookie (session.js),
// refusals as HttpError carrying the service's own message, and downloads of exports (fetched,
// so a refusal shows on the page instead of as a browser error page).

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The service's refusals are {"detail": "..."} or {"detail": {"field", "detail"}}; FastAPI's own
// validation errors are {"detail": [{"msg"}, ...]}.
function detailOf(body, fallback) {
  const d = body && body.detail;
  if (typeof d === "string") return d;
  if (d && d.detail) return d.detail;
  if (Array.isArray(d)) return d.map((x) => x.msg || JSON.stringify(x)).join("; ");
  return (body && body.field) || (d ? JSON.stringify(d) : fallback);
}

// The response of `path`, or an HttpError when the service refused (401: the session ended; a
// network failure rejects as fetch does).
export async function request(path, options = {}) {
  const response = await fetch(path, { ...options, credentials: "same-origin" });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new HttpError(response.status, detailOf(body, `${response.status} ${response.statusText}`));
  }
  return response;
}

function filenameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

// Save an export's body under the service's file name (else `fallback`); returns that name.
export async function download(path, { fallback, ...options } = {}) {
  const response = await request(path, options);
  const name = filenameOf(response, fallback || path.split("?")[0].split("/").pop());
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
