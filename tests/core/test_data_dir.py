import stat

from vibenvr.db import db
from vibenvr.models import Setting
from vibenvr.settings.registry import SETTINGS

from conftest import make_app


def test_fresh_data_dir_gets_private_secret_key_tables_and_default_settings(tmp_path):
    data = tmp_path / "fresh"
    app = make_app(data, SECRET_KEY=None)
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert stat.S_IMODE((data / "backups").stat().st_mode) == 0o700
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert stat.S_IMODE((data / "vibenvr.db").stat().st_mode) == 0o600
        for companion in ("vibenvr.db-wal", "vibenvr.db-shm"):
            if (data / companion).exists():
                assert stat.S_IMODE((data / companion).stat().st_mode) == 0o600
    with app.app_context(), db.connection_context():
        stored = {s.key: s.value for s in Setting.select()}
    assert stored == {key: definition.default for key, definition in SETTINGS.items()}


def test_secret_key_survives_a_restart(tmp_path):
    data = tmp_path / "d"
    first = make_app(data, SECRET_KEY=None).config["SECRET_KEY"]
    second = make_app(data, SECRET_KEY=None).config["SECRET_KEY"]
    assert first == second


def test_sqlite_runs_in_wal_mode(app):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        return
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
