"""``flask --app app users …`` and ``flask --app app tokens …``: accounts from the terminal."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..cliutil import command_database, fail
from ..models import User
from ..security.tokens import create_token
from ..timeutil import iso
from ..users.service import create_user, set_password
from ..validation import ConflictError, ValidationError
from . import setupcode, twofactor
from .clock import now

users_cli = AppGroup("users", help="Create users and recover access.")
tokens_cli = AppGroup("tokens", help="Create API tokens.")


def _read_password(from_stdin):
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("--password-stdin was given but standard input is empty")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")


def _user(username):
    user = User.get_or_none(User.username == username)
    if user is None:
        fail(f"there is no user named {username!r}")
    return user


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer", show_default=True)
@click.option("--email", default="", help="E-mail address (optional).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create_user_command(username, role, email, password_stdin):
    """Create USERNAME with a password typed at a prompt (or read from standard input)."""
    password = _read_password(password_stdin)
    with command_database():
        try:
            user = create_user({"username": username, "role": role, "email": email, "password": password})
        except (ValidationError, ConflictError) as exc:
            fail(str(exc))
    if user.role == "admin":  # the marker of SPEC §12: after a data loss, /setup asks for the setup code
        setupcode.first_admin_created(current_app.config["DATA_DIR"], now(), "flask users create")
    click.echo(f"Created {user.role} {user.username}.")


@users_cli.command("setup-code")
def setup_code_command():
    """Print the one-time code /setup asks for when the database has no user but backups (or the marker of a
    first setup) show an earlier install. A new code is made when none is valid; it lasts 24 hours."""
    with command_database():
        if User.select().exists():
            fail(
                "this server has users, so /setup is closed and needs no code",
                ["to get in, set a password from the terminal: flask --app app users set-password USERNAME"],
            )
    earlier = setupcode.here(current_app)
    if earlier is None:
        click.echo(
            "No setup code is needed: this data folder shows no earlier install (no backups, no marker), "
            "so /setup asks for none.",
            err=True,
        )
        return
    try:
        code, _made = setupcode.current_code(current_app.config["DATA_DIR"], now())
    except OSError as exc:
        fail(
            f"the setup code cannot be written in {current_app.config['DATA_DIR']} ({exc.strerror or exc})",
            ["create the administrator from the terminal instead: flask --app app users create NAME --role admin"],
        )
    click.echo(code.code)
    click.echo(
        f"Enter it on /setup before {iso(code.expires_at)}. This server has been set up before: {earlier.reason()}.",
        err=True,
    )


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def set_password_command(username, password_stdin):
    """Give USERNAME a new password (their open sessions end)."""
    password = _read_password(password_stdin)
    with command_database():
        try:
            set_password(_user(username), password)
        except (ValidationError, ConflictError) as exc:
            fail(str(exc))
    click.echo(f"The password of {username} has been changed.")


@users_cli.command("disable-2fa")
@click.argument("username")
def disable_2fa_command(username):
    """Turn off two-factor authentication for USERNAME (a lost phone and lost recovery codes)."""
    with command_database():
        twofactor.disable(_user(username))
    click.echo(f"Two-factor authentication is off for {username}; they can enrol again on the Security page.")


@users_cli.command("list")
def list_users_command():
    """List users with their role and 2FA state."""
    with command_database():
        for user in User.select().order_by(User.username):
            flags = [user.role, "2fa" if user.is_2fa_enabled else "no-2fa"]
            if not user.is_active_user:
                flags.append("disabled")
            click.echo(f"{user.username}\t{' '.join(flags)}")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'home-assistant'.")
@click.option(
    "--expires-days", type=click.IntRange(1, 3650), default=None, help="Expire after N days (default: never)."
)
def create_token_command(username, name, expires_days):
    """Print a new API token for USERNAME, alone on standard output (it is shown only once)."""
    with command_database():
        user = _user(username)
        try:
            _token, plain = create_token({"name": name, "expires_in_days": expires_days}, user)
        except ValidationError as exc:
            fail(str(exc))
    click.echo(plain)


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
