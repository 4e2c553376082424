"""Sign-in for the browser tests: what a signed-out page is expected to log."""

from __future__ import annotations

# Chromium logs every 4xx answer to a fetch as a console error. A page opened signed out asks
# GET /api/v1/session (401: no session), and a refused token is a 401 from POST /api/v1/session:
# both are the expected way to learn "not signed in", so tests of those pages drop these lines.
REFUSED_SIGN_IN = "the server responded with a status of 401 (Unauthorized)"


def unexpected(console_errors: list[str]) -> list[str]:
    """The console errors other than a 401 from /api/v1/session."""
    return [e for e in console_errors if not (REFUSED_SIGN_IN in e and "/api/v1/session'" in e)]
