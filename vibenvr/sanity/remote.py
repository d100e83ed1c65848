"""A running server over HTTP, for ``scripts/refactoring_sanity.py`` (standard library HTTP): ``Http``, the
checks' client, and ``HttpTarget``, the zero-trace guard's target.

Snapshot: ``GET /api/config/export``; restore: ``POST /api/config/restore?safety=false``; fallback:
``GET /api/backups`` and ``POST /api/backups/<name>/restore`` (which keeps a safety backup of what it
replaces); pause: ``/api/sanity/pause``. Times come from the server (the export's ``timestamp``), so the
60-minute rule is judged by the clock that dated the backups, not by this machine's.
"""

import email.utils
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request

from ..backups.automation.pause import PauseBusy
from ..backups.store import BackupEntry
from ..timeutil import parse_iso, utcnow
from .client import AdminRequests, parse_json

MISSING_ID = 987654321
MISSING_NAME = "sanity-missing.json"
#: Admin-only API routes (SPEC §9); a viewer's token must get 403 on each.
ADMIN_API = [
    ("GET", "/api/backups"),
    ("POST", "/api/backups"),
    ("GET", "/api/backups/status"),
    ("GET", f"/api/backups/{MISSING_NAME}"),
    ("DELETE", f"/api/backups/{MISSING_NAME}"),
    ("POST", f"/api/backups/{MISSING_NAME}/restore"),
    ("POST", "/api/backups/import"),
    ("GET", "/api/config/export"),
    ("POST", "/api/config/restore"),
    ("GET", "/api/settings"),
    ("PATCH", "/api/settings"),
    ("GET", "/api/storage-profiles"),
    ("POST", "/api/storage-profiles"),
    ("GET", f"/api/storage-profiles/{MISSING_ID}"),
    ("PATCH", f"/api/storage-profiles/{MISSING_ID}"),
    ("DELETE", f"/api/storage-profiles/{MISSING_ID}"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", f"/api/users/{MISSING_ID}"),
    ("PATCH", f"/api/users/{MISSING_ID}"),
    ("DELETE", f"/api/users/{MISSING_ID}"),
    ("POST", "/api/cameras"),
    ("PATCH", f"/api/cameras/{MISSING_ID}"),
    ("DELETE", f"/api/cameras/{MISSING_ID}"),
    ("POST", "/api/groups"),
    ("PATCH", f"/api/groups/{MISSING_ID}"),
    ("DELETE", f"/api/groups/{MISSING_ID}"),
    ("GET", "/api/sanity/pause"),
    ("POST", "/api/sanity/pause"),
    ("DELETE", "/api/sanity/pause"),
]
#: Admin-only pages; asked when the server has them (an admin gets 200).
ADMIN_PAGES = ["/settings/global", "/settings/backups", "/users", "/storage"]


class HttpError(RuntimeError):
    """An answer other than the one expected; the message names the request and the server's error."""

    def __init__(self, method, path, status, message):
        self.status = status
        super().__init__(f"{method} {path} answered {status or 'nothing'}: {message}")


class RedirectRefused(HttpError):
    """The server answered with a redirect: it is not followed, so the token goes nowhere else (SPEC §12)."""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's default handler would send the token on to wherever ``Location`` points (another host or
    port) and turn a POST into a GET after a 302; this one stops there, before anything is sent."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        fp.close()
        path = urllib.parse.urlsplit(req.full_url)
        path = path.path + (f"?{path.query}" if path.query else "")
        raise RedirectRefused(
            req.get_method(),
            path,
            code,
            (
                f"a redirect to {newurl}, which the sanity script does not follow: the token was not sent there. "
                "Give the server's own address as --url (for instance https://… when it redirects http to https)"
            ),
        )


class Http:
    """A tiny JSON client with a bearer token, which never follows a redirect. It is the sanity checks'
    client over HTTP (``vibenvr.sanity.client``: ``call``, ``upload``, ``as_token``, ``admin_requests``)."""

    def __init__(self, url, token, timeout=60):
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"--url must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.last_date = None  # the server's Date header of the last answer
        self.opener = urllib.request.build_opener(_RefuseRedirects)

    def send(self, method, path, body=None, content_type="application/json"):
        """``(status, bytes)`` for a request; connection failures raise HttpError with status 0."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)  # noqa: S310 - http(s) only
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                self._date(response)
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            self._date(exc)
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise HttpError(method, path, 0, f"cannot reach {self.url} ({getattr(exc, 'reason', exc)})") from None

    def _date(self, response):
        with_date = response.headers.get("Date") if response.headers else None
        if with_date:
            self.last_date = email.utils.parsedate_to_datetime(with_date).replace(tzinfo=None)

    def call(self, method, path, body=None):
        """Send ``body`` as JSON; ``(status, parsed answer)`` (None when it is empty or not JSON)."""
        status, data = self.send(method, path, None if body is None else json.dumps(body).encode("utf-8"))
        return status, parse_json(data)

    def answer(self, method, path, body=None, expect=(200,)):
        """The parsed answer (None when empty) for a status in ``expect``; else HttpError with the server's error."""
        status, data = self.send(method, path, None if body is None else json.dumps(body).encode("utf-8"))
        if status not in expect:
            raise HttpError(method, path, status, error_message(data))
        return json.loads(data) if data.strip() else None

    def upload(self, path, filename, data):
        """POST ``data`` as the multipart field ``file``; ``(status, parsed answer)``."""
        boundary = "sanity" + secrets.token_hex(12)
        body = b"".join(
            [
                f"--{boundary}\r\n".encode(),
                f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode(),
                b"Content-Type: application/json\r\n\r\n",
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        status, answer = self.send("POST", path, body, content_type=f"multipart/form-data; boundary={boundary}")
        return status, parse_json(answer)

    def as_token(self, token):
        """The same server, asked with ``token`` (pages too: a script has no browser session)."""
        return Http(self.url, token, timeout=self.timeout)

    def admin_requests(self):
        """The admin-only API of SPEC §9, and the admin pages this server has (an admin gets 200)."""
        pages = [("GET", path) for path in ADMIN_PAGES if self.call("GET", path)[0] == 200]
        return AdminRequests(ADMIN_API + pages, unmarked=[], how="API and pages by token")


def error_message(data):
    try:
        return json.loads(data).get("error") or data[:200].decode("utf-8", "replace")
    except (ValueError, AttributeError):
        return data[:200].decode("utf-8", "replace") or "(no body)"


def quoted(name):
    return urllib.parse.quote(name, safe="")


class HttpTarget:
    """The guard's target on a running server, through its admin API."""

    def __init__(self, http):
        self.http = http
        self.where = f"the backup folder of {http.url}"

    def export(self):
        return self.http.answer("GET", "/api/config/export")

    def restore(self, doc):
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        status, data = self.http.send("POST", "/api/config/restore?safety=false", body)
        if status != 200:
            raise HttpError("POST", "/api/config/restore?safety=false", status, error_message(data))

    def list_backups(self):
        answer = self.http.answer("GET", "/api/backups")
        return [
            BackupEntry(b["name"], b["kind"], parse_iso(b["created_at"]), b["size_bytes"])
            for b in answer["backups"]
            if not b.get("unusable")
        ]  # as the store lists them in process

    def read_backup(self, name):
        status, data = self.http.send("GET", f"/api/backups/{quoted(name)}")
        if status != 200:
            raise HttpError("GET", f"/api/backups/{name}", status, error_message(data))
        return data

    def restore_backup(self, name, valid):
        answer = self.http.answer("POST", f"/api/backups/{quoted(name)}/restore", {"mode": "replace"})
        return answer.get("safety_backup")

    def delete_backup(self, name):
        self.http.answer("DELETE", f"/api/backups/{quoted(name)}", expect=(204,))

    def status(self):
        return self.http.answer("GET", "/api/backups/status")

    def pause(self, minutes, by):
        status, data = self.http.send(
            "POST", "/api/sanity/pause", json.dumps({"minutes": minutes, "by": by}).encode("utf-8")
        )
        if status == 409:
            raise PauseBusy(error_message(data))
        if status == 404:
            raise HttpError(
                "POST",
                "/api/sanity/pause",
                404,
                "this server cannot pause its automatic backups; update it to a version with /api/sanity/pause",
            )
        if status != 201:
            raise HttpError("POST", "/api/sanity/pause", status, error_message(data))

    def resume(self):
        self.http.answer("DELETE", "/api/sanity/pause", expect=(204,))

    def paused_until(self):
        until = self.http.answer("GET", "/api/sanity/pause").get("paused_until")
        return parse_iso(until) if until else None

    def now(self):
        """The server's time: its export's timestamp (its backup clock), else its Date header, else ours."""
        try:
            return parse_iso(self.export()["timestamp"])
        except Exception:
            return self.http.last_date or utcnow()

    def restore_command(self, name):
        if "/" in name:  # a file kept elsewhere: only the terminal restores from a path
            return f"flask --app app backup restore {name}    (on the server)"
        return (
            f"flask --app app backup restore {name}    (on the server; or POST "
            f"{self.http.url}/api/backups/{quoted(name)}/restore)"
        )
