#!/usr/bin/env python3
"""Zero-trace sanity checks against a running VibeNVR Config server, over its HTTP API (SPEC §11).

    VIBENVR_TOKEN=… .venv/bin/python scripts/refactoring_sanity.py --url http://127.0.0.1:8000
    .venv/bin/python scripts/refactoring_sanity.py --url http://127.0.0.1:8000 --token-file ~/.vibenvr-token

The token must be an admin's: --token, else --token-file (a file holding it, a trailing newline allowed),
else the VIBENVR_TOKEN environment variable. A token given with --token is visible to other users of the
machine in `ps`. Redirects are never followed, so the token goes only to --url. The checks create, change and delete cameras, groups, storage profiles,
users and tokens, toggle every setting, make and restore a backup, check that a viewer gets 403 on the
admin API, and send hostile files to import, all inside a guard that snapshots the configuration
(GET /api/config/export), pauses automatic backups, and restores the snapshot afterwards
(POST /api/config/restore?safety=false). Exit codes: 0 clean (zero trace), 1 checks failed but the
configuration was restored, 3 restored from an automatic backup at most 60 minutes old, 4 fallback
refused (restore by hand; the report says which file), 5 not started (nothing changed), 2 usage.
Needs the project's requirements (``make run`` creates .venv; run with another Python, the script
switches to .venv/bin/python when it exists).
"""

import argparse
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    import flask  # noqa: F401 - only to find out whether the project's requirements are installed
except ImportError:
    VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
    if VENV_PYTHON.exists() and Path(sys.executable).resolve() != VENV_PYTHON.resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])  # noqa: S606 - the project's own interpreter
    sys.exit(
        "This script needs the project's requirements: run `make run` once (it creates .venv), "
        "or `pip install -r requirements.txt`."
    )

from vibenvr.sanity.checks import CHECKS, Context  # noqa: E402
from vibenvr.sanity.guard import NOT_STARTED, GuardNotStarted, ZeroTraceGuard  # noqa: E402
from vibenvr.sanity.remote import Http, HttpError, HttpTarget  # noqa: E402
from vibenvr.sanity.runner import run_checks, select  # noqa: E402

NAMES = [name for name, _check in CHECKS]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="an admin's API token (visible in `ps`: prefer --token-file or VIBENVR_TOKEN)")
    parser.add_argument("--token-file", metavar="PATH", help="a file holding the token (a trailing newline is fine)")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only this check (repeatable)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each answer")
    args = parser.parse_args(argv)
    args.token = token_from(args, parser)
    if not args.url.startswith(("http://", "https://")):
        parser.error(f"--url must start with http:// or https://, not {args.url!r}")
    return args


def token_from(args, parser, environ=os.environ):
    """The token from --token, else --token-file, else $VIBENVR_TOKEN; a usage error (exit 2) without one."""
    if args.token:
        print(
            "Warning: a token given with --token is visible to other users of this machine (ps, /proc); "
            "use --token-file PATH or the VIBENVR_TOKEN environment variable instead.",
            file=sys.stderr,
        )
        return args.token.strip()
    if args.token_file:
        try:
            token = Path(args.token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"--token-file {args.token_file}: cannot read it ({getattr(exc, 'strerror', None) or exc})")
        if not token:
            parser.error(f"--token-file {args.token_file} is empty: put an admin's API token in it")
        if "\n" in token or " " in token:
            parser.error(f"--token-file {args.token_file} must hold the token alone, on one line")
        return token
    token = (environ.get("VIBENVR_TOKEN") or "").strip()
    if not token:
        parser.error(
            "an admin's API token is required: --token-file PATH, the VIBENVR_TOKEN environment "
            "variable, or --token TOKEN (make one with `flask --app app tokens create USERNAME --name sanity`)"
        )
    return token


def preflight(http):
    """Refuse early, changing nothing, when the server is unreachable or the token is not an admin's."""
    http.answer("GET", "/api/health")
    status = http.call("GET", "/api/backups/status")[0]
    if status in (401, 403):
        raise GuardNotStarted(
            "the token was refused (401) or is not an admin's (403); the checks need an admin token"
            if status == 401
            else "the token is not an admin's; the checks need an admin token"
        )
    if status != 200:
        raise GuardNotStarted(f"GET /api/backups/status answered {status}")


def main(argv=None, echo=print):
    args = parse_args(argv)
    http = Http(args.url, args.token, timeout=args.timeout)
    target = HttpTarget(http)
    checks = select(CHECKS, args.only)
    results = []
    echo(
        f"Sanity run against {http.url}: {len(checks)} check(s) inside the zero-trace guard (configuration "
        "snapshot in memory, automatic backups paused on the server)"
    )
    guard = ZeroTraceGuard(target, clock=target.now, by=f"refactoring_sanity.py on {socket.gethostname()}")
    try:
        preflight(http)
        with guard:
            run_checks(checks, Context(http), echo, results)
    except (GuardNotStarted, HttpError) as exc:
        echo(f"Not started: {exc}. Nothing was run and nothing was changed.")
        return NOT_STARTED
    for line in guard.report.lines():
        echo(line)
    return int(guard.report.outcome)


if __name__ == "__main__":
    sys.exit(main())
