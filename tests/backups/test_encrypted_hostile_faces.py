"""The broken and mismatched age files of HOSTILE (SPEC §13) through every face that takes a file: the import
API, the import page and the terminal (``backup verify`` and ``backup restore``). Each is refused with the
table's message (422, or exit 1 in the terminal), nothing is written (the data folder's files and the
configuration are as before), and the identity or passphrase given is in neither the answer nor the log."""

import datetime as dt
import html
import io
import logging

import pytest
from pyrage import x25519

from vibenvr.backups import keys, service
from vibenvr.backups.document import envelope
from vibenvr.backups.document.canonical import encode
from vibenvr.backups.document.export import export_document

from .helpers import HOSTILE, PHRASE, snapshot
from builders import make_camera, make_user
from conftest import connected_app

NOW = dt.datetime(2026, 12, 2, 12, 0, 0)
LAPTOP = x25519.Identity.generate()  # the key of a file made elsewhere: not this server's
WRONG = "not the passphrase at all"  # the table's wrong passphrase
HTMX = {"HX-Request": "true"}
ROWS = {row[0]: row[1:] for row in HOSTILE}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    """Every HOSTILE file, made once (a passphrase costs a second of scrypt), from a backup of another
    configuration (an admin "elsewhere", a camera "Porch") that a wrongly accepted restore would bring in."""
    with connected_app(tmp_path_factory.mktemp("elsewhere") / "data") as source, source.app_context():
        make_user("elsewhere", role="admin")
        make_camera(name="Porch")
        plain = encode(export_document(now=NOW))
    return {name: make(plain, LAPTOP) for name, (make, _given, _expected) in ROWS.items()}


@pytest.fixture
def server(app, admin, clock):
    """This server in use: its backup key, an admin, a camera "Garage" and a backup in the folder."""
    make_camera(name="Garage")
    with app.app_context():
        keys.server_identity(app.config["DATA_DIR"], clock())
        service.create_backup("manual")
    return app


def _state(app):
    """What a refused file must leave alone: the configuration and every file of the data folder (the
    database aside: a request may stamp a session or a token's use; ``snapshot`` covers what it holds)."""
    with app.app_context():
        config = snapshot()
    data = app.config["DATA_DIR"]
    files = {
        str(p.relative_to(data)): p.read_bytes()
        for p in data.rglob("*")
        if p.is_file() and not p.name.startswith("vibenvr.db")
    }
    return config, files


def _fields(given, key=LAPTOP):
    """The multipart fields of the table's ``given``: the identity as pasted text, or the passphrase."""
    if "phrase" in given:
        return {"passphrase": given["phrase"]}
    return {"identity": f"# my laptop\n{key}\n"} if given.get("identities") and key is not None else {}


# --- the faces: each returns (status or exit code, the message, the whole answer) -----------------------


def _api(api, tmp_path, data, filename, given, key=LAPTOP):
    answer = api.client.post(
        "/api/backups/import",
        data={"file": (io.BytesIO(data), filename), **_fields(given, key)},
        headers=api.headers,
    )
    body = answer.get_json()
    assert body is not None, answer.data[:300]
    message = " | ".join([body["error"], *body.get("errors", [])]) if "error" in body else str(body)
    return answer.status_code, message, answer.get_data(as_text=True)


def _page(client, tmp_path, data, filename, given):
    answer = client.post(
        "/settings/backups/import",
        data={"file": (io.BytesIO(data), filename), **_fields(given)},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    text = answer.get_data(as_text=True)
    return answer.status_code, html.unescape(text), text


def _terminal(command):
    def run(runner, tmp_path, data, filename, given):
        path = tmp_path / filename
        path.write_bytes(data)
        args, typed = ["backup", command, str(path)], None
        if command == "restore":
            args.append("--yes")
        if "phrase" in given:
            args.append("--passphrase-stdin")
            typed = given["phrase"] + "\n"
        elif given.get("identities"):
            key_file = tmp_path / "laptop-key.txt"
            key_file.write_text(f"# my laptop\n{LAPTOP}\n")
            args += ["--identity", str(key_file)]
        done = runner.invoke(args=args, input=typed)
        return done.exit_code, done.output, done.output

    return run


FACES = {"api": _api, "page": _page, "verify": _terminal("verify"), "restore": _terminal("restore")}
REFUSED = {"api": 422, "page": 422, "verify": 1, "restore": 1}
CLIENTS = {"api": "api", "page": "admin_client", "verify": "runner", "restore": "runner"}  # admin_client sends CSRF


def _face(request, face):
    """Face ``face`` as ``call(data, filename, given)``, its client made now (before the state is taken:
    making the API's token is a change of its own)."""
    client, tmp_path = request.getfixturevalue(CLIENTS[face]), request.getfixturevalue("tmp_path")
    return lambda data, filename, given, **kw: FACES[face](client, tmp_path, data, filename, given, **kw)


def _assert_refused_and_nothing_written(face, outcome, expected, before, app, caplog, filename, secrets):
    status, message, answer = outcome
    assert status == REFUSED[face], message[:2000]
    assert expected in message and filename in message, message[:2000]
    assert _state(app) == before
    server_key = str(keys.load_identity(app.config["DATA_DIR"]))
    for secret in (*secrets, server_key):
        assert secret not in answer and secret not in caplog.text


@pytest.mark.parametrize("row", ROWS, ids=list(ROWS))
@pytest.mark.parametrize("face", FACES)
def test_each_broken_age_file_is_refused_by_every_face_and_nothing_is_written(
    request, server, hostile_files, caplog, face, row
):
    _make, given, expected = ROWS[row]
    call = _face(request, face)
    before = _state(server)
    with caplog.at_level(logging.DEBUG):
        outcome = call(hostile_files[row], "garage.json.age", given)
    secrets = (str(LAPTOP), PHRASE, WRONG)
    _assert_refused_and_nothing_written(face, outcome, expected, before, server, caplog, "garage.json.age", secrets)


# The rows given a key, now with files for the server's own key; a passphrase file holds no key (the test above has it).
KEYED_ROWS = [
    name
    for name, (_make, given, _expected) in ROWS.items()
    if given.get("identities") and name != "a passphrase file opened with a key"
]


@pytest.mark.parametrize("row", KEYED_ROWS)
def test_the_same_files_for_this_servers_own_key_get_the_same_answers(request, server, caplog, row):
    make, given, expected = ROWS[row]
    with server.app_context():
        identity = keys.load_identity(server.config["DATA_DIR"])
        plain = encode(export_document(now=NOW))
    call = _face(request, "api")
    before = _state(server)
    with caplog.at_level(logging.DEBUG):
        outcome = call(make(plain, identity), "garage.json.age", given, key=None)  # no field: the server's key
    _assert_refused_and_nothing_written("api", outcome, expected, before, server, caplog, "garage.json.age", ())


def test_a_file_for_this_servers_key_opens_even_with_a_passphrase_given(request, server):
    with server.app_context():
        sealed = envelope.encrypt(encode(export_document(now=NOW)), service.encryption_recipients())
    api = request.getfixturevalue("api")
    status, message, answer = _api(api, None, sealed, "garage.json.age", {"phrase": PHRASE})
    assert status == 201 and PHRASE not in answer, message


# --- the name says one thing, the content another --------------------------------------------------------


@pytest.mark.parametrize("row", ["another key's file", "truncated ciphertext", "a passphrase file opened with a key"])
@pytest.mark.parametrize("face", FACES)
def test_an_age_file_named_json_is_opened_as_age_and_refused_the_same(
    request, server, hostile_files, caplog, face, row
):
    _make, given, expected = ROWS[row]
    call = _face(request, face)
    before = _state(server)
    with caplog.at_level(logging.DEBUG):
        outcome = call(hostile_files[row], "garage.json", given)
    _assert_refused_and_nothing_written(face, outcome, expected, before, server, caplog, "garage.json", (str(LAPTOP),))


def test_a_good_age_file_named_json_is_kept_as_it_came_under_a_json_age_name(request, server):
    with server.app_context():
        sealed = envelope.encrypt(encode(export_document(now=NOW)), service.encryption_recipients())
    api = request.getfixturevalue("api")
    status, message, _answer = _api(api, None, sealed, "garage.json", {})
    assert status == 201, message
    entry = api.get("/api/backups").get_json()["backups"][0]
    assert entry["kind"] == "imported" and entry["encrypted"] is True and entry["name"].endswith(".json.age")
    assert (server.config["BACKUP_DIR"] / entry["name"]).read_bytes() == sealed


@pytest.mark.parametrize("face", FACES)
def test_plain_json_named_json_age_is_refused_as_not_age(request, server, face, caplog):
    with server.app_context():
        plain = encode(export_document(now=NOW))
    call = _face(request, face)
    before = _state(server)
    with caplog.at_level(logging.DEBUG):
        outcome = call(plain, "garage.json.age", {})
    expected = "not an age-encrypted file"
    _assert_refused_and_nothing_written(face, outcome, expected, before, server, caplog, "garage.json.age", ())
