"""The headers every answer carries and the body limit of requests nobody is signed in for (SPEC §12).

- ``Cache-Control: no-store`` on everything but static files and ``/api/health``: pages and API answers
  carry configuration, and a signed-in page's form carries a CSRF token;
- on every answer, static files and errors included: a Content-Security-Policy that allows only the app's
  own scripts, styles and images (no inline script, handler or style), no framing, ``nosniff`` and
  ``Referrer-Policy: same-origin``;
- a request with neither a session nor an API token may send at most 64 KB: a longer one is answered 413
  before its body is read (a 10 MB sign-in form cost seconds of CPU to parse). The one exception is an
  endpoint registered with ``allow_anonymous_upload`` while its condition holds: the backup upload of the
  restore on /setup, before any user exists (SPEC §16), which keeps the upload limit.
"""

import io

from flask import current_app, g, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

ANONYMOUS_BODY_LIMIT = 64 * 1024
ANONYMOUS_LIMIT_MESSAGE = (
    "Requests made without signing in may send at most 64 KB. Sign in (or send an API "
    "token) first; signed-in uploads may be as large as the upload limit."
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

CACHEABLE_PATHS = {"/api/health"}


def init_app(app):
    """Register the limit before the CSRF check (which parses the form) and the headers after every view."""
    app.before_request(cap_anonymous_body)
    app.after_request(add_headers)


def allow_anonymous_upload(app, endpoint, condition):
    """Let ``endpoint`` take bodies up to the upload limit from nobody signed in while ``condition()`` is true."""
    app.extensions.setdefault("vibenvr_anonymous_uploads", {})[endpoint] = condition


def cap_anonymous_body():
    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if (length or 0) <= ANONYMOUS_BODY_LIMIT and not chunked:
        return
    if current_user.is_authenticated:
        return
    condition = current_app.extensions.get("vibenvr_anonymous_uploads", {}).get(request.endpoint)
    if condition is not None and condition():
        return  # MAX_CONTENT_LENGTH (the upload limit) still applies
    g.body_limit_message = ANONYMOUS_LIMIT_MESSAGE
    if length is not None and length > ANONYMOUS_BODY_LIMIT:
        raise RequestEntityTooLarge()
    _read_chunked_body()


def _read_chunked_body():
    """A body with no length (chunked): read at most one byte past the limit ourselves, so a longer one is a
    413 rather than a form silently cut short; a shorter one is handed on as a body of known length."""
    environ = request.environ
    if not environ.get("wsgi.input_terminated"):
        return  # the server does not pass such bodies on: werkzeug reads nothing of it
    body = environ["wsgi.input"].read(ANONYMOUS_BODY_LIMIT + 1)
    if len(body) > ANONYMOUS_BODY_LIMIT:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    request.__dict__.pop("stream", None)  # nothing has read it yet; make sure the new body is the one read


def add_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static" and request.path not in CACHEABLE_PATHS:
        response.headers["Cache-Control"] = "no-store"
    return response
