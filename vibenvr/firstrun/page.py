"""What every page under /setup/restore shares: who may use it (the setup code after a data loss), the page
with its three ways, and redirects that htmx follows as full page loads."""

import hmac

from flask import current_app, make_response, redirect, session, url_for

from ..auth import setupcode
from ..auth.clock import now
from ..backups import service as backups
from ..backups.locations.forms import KIND_LABELS as LOCATION_KINDS
from ..backups.locations.transport import TIMEOUT
from ..backups.overview import KIND_BADGES, KIND_LABELS
from ..http import is_htmx
from ..pages import render

WAYS = {
    "upload": "Upload a file",
    "server": "On this server",
    "location": "From a location",
}
CODE_KEY = "setup_code_proof"  # the session's proof that this browser entered the setup code
STAGED_KEY = "setup_restore"  # the token of the file waiting for confirmation
START = {"choice": "restore"}  # the choice marked at the top of /setup (auth/_start.html)


def code_entered(earlier):
    """Whether this browser may restore: always on a fresh data folder; after a data loss once it entered
    the valid setup code (its proof is in the session, and stops matching when the code is spent)."""
    if earlier is None:
        return True
    kept = session.get(CODE_KEY)
    current = setupcode.proof(current_app.config["DATA_DIR"], now())
    return isinstance(kept, str) and current is not None and hmac.compare_digest(kept, current)


def needs_code():
    """None when this browser may restore; else the way to the setup code (a full page load for htmx)."""
    if code_entered(setupcode.here(current_app)):
        return None
    return go(url_for("firstrun.page"))


def go(target):
    """A 303 to ``target``; for htmx, a full page load of it."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def entries():
    """The files of the backup folder, as System Backups lists them (names and sizes only)."""
    return backups.get_store().list(unusable=True)


def default_way(listed):
    """The backup folder when it holds a backup (a reused volume), else the upload."""
    return "server" if any(not e.unusable for e in listed) else "upload"


def render_way(way, status=200, **context):
    """The restore page with ``way`` open; htmx gets that way's panel alone."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    listed = entries()
    base = {
        **START,
        "way": way,
        "ways": WAYS,
        "entries": listed,
        "usable": sum(1 for e in listed if not e.unusable),
        "backup_dir": str(current_app.config["BACKUP_DIR"]),
        "limit_mb": limit_mb,
        "earlier": setupcode.here(current_app),
        "errors": [],
        "keys_open": False,
        "location": {},
        "kind_labels": LOCATION_KINDS,
        "labels": KIND_LABELS,
        "badges": KIND_BADGES,
        "timeout": TIMEOUT,
        "chosen": None,
        "filename": "",
    }
    return render("firstrun/restore.html", f"firstrun/_{way}.html", status, **{**base, **context})
