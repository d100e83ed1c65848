"""``flask users …`` and ``flask tokens …``."""

import datetime as dt

from vibenvr.auth.passwords import verify_password
from vibenvr.auth.tokens import sha256_hex
from vibenvr.models import ApiToken, User

from builders import make_user


def test_users_create_with_password_from_stdin(runner):
    result = runner.invoke(
        args=["users", "create", "root", "--role", "admin", "--password-stdin"], input="a long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    user = User.get(User.username == "root")
    assert user.role == "admin" and verify_password(user.hashed_password, "a long passphrase")


def test_users_create_with_a_prompt(runner):
    result = runner.invoke(args=["users", "create", "watcher"], input="a long passphrase\na long passphrase\n")
    assert result.exit_code == 0, result.output
    assert User.get(User.username == "watcher").role == "viewer"


def test_users_create_refuses_a_short_password_and_a_duplicate(runner):
    result = runner.invoke(args=["users", "create", "root", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "password must be at least 10 characters" in result.output
    make_user("taken")
    result = runner.invoke(args=["users", "create", "taken", "--password-stdin"], input="a long passphrase\n")
    assert result.exit_code == 1 and "already exists" in result.output
    assert User.select().count() == 1


def test_tokens_create_prints_the_token_alone(runner, app):
    user = make_user("robot", role="viewer")
    result = runner.invoke(args=["tokens", "create", "robot", "--name", "nightly", "--expires-days", "7"])
    assert result.exit_code == 0, result.output
    plain = result.stdout.strip()
    assert result.stdout == plain + "\n" and plain.startswith("vnvr_")
    token = ApiToken.get(ApiToken.token_hash == sha256_hex(plain))
    assert token.user_id == user.id and token.name == "nightly"
    assert dt.timedelta(days=6, hours=23) < token.expires_at - token.created_at <= dt.timedelta(days=7)
    assert app.test_client().get("/api/cameras", headers={"X-API-Key": plain}).status_code == 200


def test_tokens_create_for_a_missing_user_fails(runner):
    result = runner.invoke(args=["tokens", "create", "ghost", "--name", "x"])
    assert result.exit_code == 1 and "no user named 'ghost'" in result.output


def test_recovery_commands(runner):
    user = make_user("locked", role="admin")
    User.update(totp_secret="JBSWY3DPEHPK3PXP", is_2fa_enabled=True).execute()
    assert runner.invoke(args=["users", "disable-2fa", "locked"]).exit_code == 0
    assert not User.get_by_id(user.id).is_2fa_enabled
    result = runner.invoke(
        args=["users", "set-password", "locked", "--password-stdin"], input="a new long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert verify_password(User.get_by_id(user.id).hashed_password, "a new long passphrase")
    listing = runner.invoke(args=["users", "list"]).output
    assert "locked\tadmin no-2fa" in listing


def test_tokens_create_without_an_expiry_never_expires(runner, app):
    make_user("robot", role="admin")
    result = runner.invoke(args=["tokens", "create", "robot", "--name", "forever"])
    assert result.exit_code == 0, result.output
    token = ApiToken.get(ApiToken.token_hash == sha256_hex(result.stdout.strip()))
    assert token.expires_at is None and token.is_active
