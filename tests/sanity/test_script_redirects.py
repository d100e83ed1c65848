"""``scripts/refactoring_sanity.py`` never sends its token past a redirect, and takes it from --token,
--token-file or VIBENVR_TOKEN (SPEC §12). Real HTTP servers on 127.0.0.1 (``http.server`` in threads): one
that redirects to another on a second port, which records every request and header that reaches it."""

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vibenvr.sanity.remote import Http, RedirectRefused

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "refactoring_sanity.py"
TOKEN = "vnvr_admin_token_that_must_not_travel"


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every request as a VibeNVR server with a refused token would, and keeps what arrived."""

    daemon_threads = True

    def __init__(self, answer=None):
        self.seen = []  # (method, path, headers)
        self.answer = answer  # (status, headers) for every request; None: 200 health, 401 for the rest
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_port}"

    def auth_headers(self):
        return [
            (h.get("Authorization"), h.get("X-API-Key"))
            for _m, _p, h in self.seen
            if h.get("Authorization") or h.get("X-API-Key")
        ]


class _Handler(http.server.BaseHTTPRequestHandler):
    def _any(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        server.seen.append((self.command, self.path, dict(self.headers)))
        if server.answer is not None:
            status, headers = server.answer
        elif self.path == "/api/health":
            status, headers = 200, {}
        else:
            status, headers = 401, {}
        body = b'{"status": "ok"}' if status == 200 else b'{"error": "no"}'
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _any

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(answer=None):
        server = Recorder(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run(*args, env=None):
    environ = {k: v for k, v in os.environ.items() if k != "VIBENVR_TOKEN"}
    environ.update(env or {})
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=environ
    )
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_port_is_refused_and_the_token_never_arrives_there(serve, token_file, status):
    target = serve()
    redirector = serve((status, {"Location": f"{target.url}/api/health"}))
    code, out, err = run("--url", redirector.url, "--token-file", str(token_file))
    assert code == 5, out + err
    assert (
        f"GET /api/health answered {status}: a redirect to {target.url}/api/health, which the sanity script "
        "does not follow: the token was not sent there"
    ) in out
    assert "Nothing was run and nothing was changed" in out
    assert target.seen == []  # nothing at all reached the other port, so no Authorization or X-API-Key either
    assert redirector.auth_headers() == [(f"Bearer {TOKEN}", None)]  # only --url had it


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirected_post_is_not_replayed_as_a_get_nor_sent_on(serve, status):
    target = serve()
    redirector = serve((status, {"Location": f"{target.url}/api/config/restore?safety=false"}))
    http = Http(redirector.url, TOKEN, timeout=10)
    with pytest.raises(RedirectRefused) as caught:
        http.call("POST", "/api/config/restore?safety=false", {"settings": {}})
    assert f"POST /api/config/restore?safety=false answered {status}" in str(caught.value)
    assert f"redirect to {target.url}/api/config/restore?safety=false" in str(caught.value)
    assert target.seen == [] and target.auth_headers() == []
    assert [(m, p) for m, p, _h in redirector.seen] == [("POST", "/api/config/restore?safety=false")]


@pytest.mark.parametrize(
    "how, expected",
    [
        (lambda tf: (["--token", "from-argv"], {"VIBENVR_TOKEN": "from-env"}, True), "from-argv"),
        (lambda tf: (["--token-file", str(tf)], {"VIBENVR_TOKEN": "from-env"}, False), TOKEN),
        (lambda tf: ([], {"VIBENVR_TOKEN": "from-env\n"}, False), "from-env"),
        (lambda tf: (["--token", "from-argv", "--token-file", str(tf)], {}, True), "from-argv"),
    ],
    ids=["--token first", "--token-file before the environment", "VIBENVR_TOKEN last", "--token over --token-file"],
)
def test_the_token_comes_from_token_then_token_file_then_the_environment(serve, token_file, how, expected):
    server = serve()
    args, env, warns = how(token_file)
    code, out, err = run("--url", server.url, *args, env=env)
    assert code == 5 and "the token was refused" in out, out + err
    assert {h for h, _k in server.auth_headers()} == {f"Bearer {expected}"}
    assert ("visible to other users of this machine (ps, /proc)" in err) is warns


def test_without_a_token_it_is_a_usage_error_that_says_where_to_put_one(serve):
    server = serve()
    code, out, err = run("--url", server.url)
    assert code == 2 and server.seen == []
    assert "an admin's API token is required: --token-file PATH, the VIBENVR_TOKEN environment variable" in err


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("one\ntwo\n", "must hold the token alone, on one line"),
    ],
)
def test_a_token_file_that_holds_no_single_token_is_a_usage_error(serve, tmp_path, content, expected):
    server = serve()
    path = tmp_path / "token"
    path.write_text(content)
    code, out, err = run("--url", server.url, "--token-file", str(path))
    assert code == 2 and expected in err and server.seen == []


def test_a_missing_token_file_is_a_usage_error_naming_it(serve, tmp_path):
    server = serve()
    code, out, err = run("--url", server.url, "--token-file", str(tmp_path / "nope"))
    assert code == 2 and f"--token-file {tmp_path / 'nope'}: cannot read it (No such file or directory)" in err
    assert "Traceback" not in err and server.seen == []
