"""``flask --app app backup …`` (SPEC §10): the recovery path when the web UI is out of reach.

Exit codes: 0 success, 1 a readable failure (invalid file, refused restore, missing backup), 2 usage.
"""

import json
import sys
from contextlib import nullcontext
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from peewee import PeeweeException

from ..cliutil import command_database, fail, refuse_unusable_database
from ..fsutil import create_once
from ..models import BackupLocation, BackupRecipient
from ..settings.service import get_setting
from ..templating import human_size
from ..validation import ConflictError, ValidationError
from . import rebuild, recipients, service
from .document import envelope
from .document.canonical import SECTIONS
from .errors import BackupError, BackupNotFound, BackupWriteError, InvalidBackupName, RestoreFailed, RestoreRefused
from .keys import OPEN_COMMAND
from .locations import copies
from .locations import service as locations
from .locations.transport import LocationError
from .restore import MODES
from .store import SAFETY_KEEP

backup_cli = AppGroup("backup", help="Create, list, verify, restore and delete configuration backups.")

FILE_COMMANDS = {"list", "verify"}  # they need only the backup folder

FAILURES = (
    BackupError,
    BackupNotFound,
    BackupWriteError,
    InvalidBackupName,
    RestoreFailed,
    RestoreRefused,
    ValidationError,
    ConflictError,
)


def _run(work, files_only=False, hint=None):
    """Run ``work`` with a database connection (closed again only if opened here); turn the engine's
    errors into messages and exit 1.

    Work that reads only the backup files (``list``, ``verify``) runs without the database when it is
    damaged or unreadable, after a warning that says so (SPEC §12); other work is refused with what to do.
    """
    health = current_app.extensions["dbhealth"]
    listing = click.get_current_context().info_name in FILE_COMMANDS
    files_only = files_only or listing
    if listing and health.problem is not None:
        click.echo(f"Warning: {health.problem.headline()}.", err=True)
        for line in health.advice():
            click.echo(f"  {line}", err=True)
    try:
        with nullcontext() if files_only and health.problem is not None else command_database():
            return work()
    except BackupError as exc:
        fail(exc.summary if len(exc.errors) > 1 else exc.errors[0], exc.errors if len(exc.errors) > 1 else ())
    except FAILURES as exc:
        fail(str(exc.args[0] if exc.args else exc))
    except PeeweeException as exc:
        if health.found(exc):  # damaged, found only now (PRAGMA quick_check at start passed)
            refuse_unusable_database()
        fail(f"the database refused: {exc}; nothing was changed", [hint] if hint else ())
    except OSError as exc:
        fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")


def _describe(valid):
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in valid.counts.items())
    made = valid.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    origin = "VibeNVR 1.x file" if valid.legacy else f"{valid.kind} backup, schema {valid.schema_version}"
    return f"{origin}, made {made} by version {valid.app_version}: {counts}"


@backup_cli.command("create")
def create():
    """Write a manual backup now and print its name."""
    entry = _run(lambda: service.create_backup("manual"))
    click.echo(entry.name)


@backup_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON, as GET /api/backups does.")
def list_backups(as_json):
    """List the backups, newest first (files that cannot be used too, with why)."""
    entries = _run(lambda: service.get_store().list(unusable=True))
    if as_json:
        click.echo(json.dumps({"backups": [e.to_dict() for e in entries]}, indent=2))
        return
    if not entries:
        click.echo(f"No backups in {current_app.config['BACKUP_DIR']}.")
        return
    width = max(len(e.name) for e in entries)
    for e in entries:
        made = e.created_at.strftime("%Y-%m-%d %H:%M:%S")
        kind = "unusable" if e.unusable else e.kind
        line = f"{e.name:<{width}}  {kind:<8}  {made} UTC  {human_size(e.size_bytes):>9}"
        click.echo(f"{line}  {e.unusable}" if e.unusable else line)


def _opening_options(command):
    """``--identity FILE`` and ``--passphrase-stdin``: how an encrypted file not made for this server opens."""
    command = click.option(
        "--passphrase-stdin", is_flag=True, help="Read the passphrase of a passphrase-encrypted file from stdin."
    )(command)
    return click.option(
        "--identity",
        "identity_file",
        type=click.Path(exists=True, dir_okay=False),
        help="An age identity file (the emergency kit, an age key, an SSH private key) for an encrypted file.",
    )(command)


def _opening(identity_file, passphrase_stdin):
    """The identity and passphrase given on the command line, read for this command only."""
    identity = None
    if identity_file:
        identity = envelope.parse_identity(Path(identity_file).read_bytes(), identity_file)
    phrase = sys.stdin.readline().rstrip("\n") if passphrase_stdin else None
    return identity, phrase


@backup_cli.command("verify")
@click.argument("name_or_path")
@_opening_options
def verify(name_or_path, identity_file, passphrase_stdin):
    """Check a backup completely; exit 0 when it is valid, 1 with the reasons when not. Encrypted files
    open with the server key, or with --identity / --passphrase-stdin."""

    def work():
        identity, phrase = _opening(identity_file, passphrase_stdin)
        return service.load_backup(name_or_path, allow_path=True, identity=identity, phrase=phrase)

    valid = _run(work)
    click.echo(f"OK: {name_or_path} is a valid {_describe(valid)}")
    for line in valid.report:
        click.echo(f"  - {line}")


@backup_cli.command("restore")
@click.argument("name_or_path")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="replace",
    show_default=True,
    help="replace: the configuration becomes the backup's; merge: add and update, delete nothing.",
)
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(SECTIONS),
    help="Restore only this section (repeatable); dependent sections come along.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Restore even if no active administrator would remain.")
@click.option(
    "--no-safety", is_flag=True, help="Write no safety backup first: for when the current configuration cannot be read."
)
@_opening_options
def restore(name_or_path, mode, sections, yes, force, no_safety, identity_file, passphrase_stdin):
    """Restore a backup by name, or a backup file anywhere on disk (encrypted ones open with the server key,
    or with --identity / --passphrase-stdin).

    Over a damaged database it keeps the damaged file aside and restores into a fresh one (SPEC §12).
    """

    def load():
        identity, phrase = _opening(identity_file, passphrase_stdin)
        return service.load_backup(name_or_path, allow_path=True, identity=identity, phrase=phrase)

    valid = _run(load, files_only=True)
    click.echo(f"{name_or_path}: {_describe(valid)}")
    for line in valid.report:
        click.echo(f"  - {line}")
    if current_app.extensions["dbhealth"].problem is not None:
        return _rebuild(valid, mode, sections, yes, force)
    what = "Replace the current configuration with" if mode == "replace" else "Merge into the current configuration"
    scope = f" (sections: {', '.join(sections)})" if sections else ""
    first = "No safety backup is written (--no-safety)." if no_safety else "A safety backup is written first."
    if not yes and not click.confirm(f"{what} this backup{scope}? {first}", default=False):
        fail("cancelled; nothing was changed")
    hint = (
        None
        if no_safety
        else (
            "if the current configuration cannot be read, run this again with --no-safety: "
            "it restores without a safety backup"
        )
    )
    try:
        answer = _run(
            lambda: service.restore(
                valid, mode=mode, sections=list(sections) or None, force=force, safety=not no_safety
            ),
            hint=hint,
        )
    except (LookupError, TypeError, ValueError) as exc:  # a stored value the safety backup cannot read
        if no_safety:
            fail(f"the restore stopped ({exc}); nothing was changed")
        fail(
            f"the current configuration cannot be read, so no safety backup could be written ({exc}); nothing was "
            "changed",
            [hint],
        )
    _report(answer)
    if answer["safety_backup"]:
        click.echo(f"Safety backup of the previous configuration: {answer['safety_backup']}")
    else:
        click.echo("No safety backup of the previous configuration was written (--no-safety).")


def _report(answer):
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in answer["counts"].items())
    click.echo(f"Restored: {counts}.")


def _rebuild(valid, mode, sections, yes, force):
    """Restore over a damaged SQLite database: keep it aside, restore into a fresh one. Refused, with what to
    do, for a database that is not damaged but cannot be opened, and for PostgreSQL (nothing is moved)."""
    health = current_app.extensions["dbhealth"]
    problem = health.problem
    if problem.path is None:
        fail(
            f"{problem.headline()}; nothing was moved or changed.",
            [
                "a PostgreSQL database is never moved or recreated: make the server reachable (check DATABASE_URL), "
                "or create an empty database and point DATABASE_URL at it, then run this restore again"
            ],
            bullet="",
        )
    if not problem.damaged:
        refuse_unusable_database("nothing was moved or changed")
    if mode != "replace" or sections:
        fail(
            "the current database is damaged, so only a whole restore can rebuild it: run it without --mode "
            "merge and --section; nothing was changed"
        )
    if not yes and not click.confirm(
        "The current database is damaged and cannot be backed up. Keep it aside and "
        "rebuild the configuration from this backup?",
        default=False,
    ):
        fail("cancelled; nothing was changed")

    def work():
        with service.lock():
            return rebuild.restore_into_fresh(
                problem.path,
                valid,
                service.clock(),
                health.prepare,
                lambda: service.restore(valid, safety=False, force=force),
                force=force,
            )

    answer, kept = _run(work, files_only=True)
    health.problem = None
    _report(answer)
    click.echo(
        f"No safety backup was written: the current database is unreadable ({problem.reason}), so it "
        "could not be backed up."
    )
    sides = [suffix for suffix in rebuild.SIDE_FILES if Path(f"{kept}{suffix}").exists()]
    also = f" (with its {' and '.join(sides)} file{'s' if len(sides) > 1 else ''})" if sides else ""
    click.echo(f"The damaged database was kept at {kept}{also}.")


@backup_cli.command("diff")
@click.argument("name_or_path")
@click.argument("against", required=False, default="current")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON, as GET /api/backups/<name>/diff does.")
@_opening_options
def diff(name_or_path, against, as_json, identity_file, passphrase_stdin):
    """Show what restoring a backup would change: against the current configuration, or against another
    backup AGAINST (names or files). The security-relevant changes come first; secrets never show."""

    def work():
        identity, phrase = _opening(identity_file, passphrase_stdin)
        return service.diff_backup(name_or_path, against, allow_path=True, identity=identity, phrase=phrase)

    answer = _run(work)
    if as_json:
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    for line in diff_lines(answer):
        click.echo(line)


def diff_lines(answer):
    """The diff as readable lines: what is compared, the security summary, then each section that differs."""
    against = "the current configuration" if answer["against"] == "current" else answer["against"]
    lines = [f"Restoring {answer['backup']} over {against}:"]
    if answer["identical"]:
        return [*lines, "No differences: the configurations are the same."]
    security = answer["security"]
    lines.append("Security:" if security else "Security: no security-relevant changes.")
    lines += [f"  ! {sentence}" for sentence in security]
    for section, part in answer["sections"].items():
        if not (part["added"] or part["removed"] or part["changed"]):
            continue
        counts = [f"{len(part[k])} {k}" for k in ("added", "removed", "changed") if part[k]]
        lines.append(f"{section}: {', '.join(counts)}, {part['unchanged']} unchanged")
        lines += [f"  + {item}" for item in part["added"]]
        lines += [f"  - {item}" for item in part["removed"]]
        for item in part["changed"]:
            lines.append(f"  ~ {item['item']}")
            lines += [f"      {_field_line(field)}" for field in item["fields"]]
    return lines


def _field_line(field):
    if "summary" in field:
        return f"{field['field']}: {field['summary']}"
    shown = (json.dumps(field[side], ensure_ascii=False) for side in ("old", "new"))
    return f"{field['field']}: {' → '.join(shown)}"


@backup_cli.command("delete")
@click.argument("name")
def delete(name):
    """Delete one backup file."""
    _run(lambda: service.get_store().delete(name))
    click.echo(f"Deleted {name}")


key_cli = AppGroup("key", help="The server's backup key (encrypted backups, SPEC §13).")
backup_cli.add_command(key_cli)


@key_cli.command("show")
def key_show():
    """Print the server key's public recipient (age1…); the key is made on first use."""
    state = _run(service.key_state)
    click.echo(state["recipient"])
    if not state["kit_downloaded"]:
        click.echo("No emergency kit was handed out yet: run 'flask --app app backup key kit PATH'.", err=True)


@key_cli.command("kit")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def key_kit(path, yes):
    """Write the emergency kit (the key that opens every encrypted backup) to PATH, mode 0600."""
    target = Path(path)
    if target.exists():
        fail(f"{target} exists; the kit is never written over a file", ["choose another path"])
    if not yes:
        click.confirm(
            f"Write the emergency kit to {target}? Anyone holding it can read every encrypted backup; "
            "keep it off this server",
            abort=True,
        )
    _name, text = _run(lambda: service.emergency_kit("flask backup key kit"))
    if not create_once(target, text):
        fail(f"{target} appeared meanwhile; the kit was not written over it")
    click.echo(f"Wrote the emergency kit to {target} (mode 0600). Open a backup with: {OPEN_COMMAND}")


recipients_cli = AppGroup("recipients", help="The admins' own keys every encrypted backup is also encrypted to.")
backup_cli.add_command(recipients_cli)


@recipients_cli.command("list")
def recipients_list():
    """Print each recipient: name, kind and public key."""
    rows = _run(lambda: [recipients.to_dict(row) for row in recipients.list_recipients()])
    for row in rows:
        click.echo(f"{row['name']}\t{row['kind']}\t{row['recipient']}")
    if not rows:
        click.echo("No recipients: encrypted backups open with the server key (and its emergency kit) only.")


@recipients_cli.command("add")
@click.argument("name")
@click.argument("public_key")
def recipients_add(name, public_key):
    """Add PUBLIC_KEY (age1…, or "ssh-ed25519 AAAA…" quoted) as NAME; later encrypted backups open with it."""
    row = _run(lambda: recipients.create_recipient({"name": name, "recipient": public_key}))
    click.echo(f'Added "{row.name}" ({recipients.kind_of(row.recipient)}): encrypted backups from now on open with it.')


@recipients_cli.command("remove")
@click.argument("name")
def recipients_remove(name):
    """Remove the recipient NAME; backups written before still open with its key, later ones do not."""

    def work():
        row = BackupRecipient.get_or_none(BackupRecipient.name == name)
        if row is None:
            known = ", ".join(r.name for r in recipients.list_recipients()) or "none"
            fail(f'there is no recipient named "{name}" (recipients: {known})')
        recipients.delete_recipient(row)

    _run(work)
    click.echo(f'Removed "{name}". Backups written before still open with its key; later ones do not.')


locations_cli = AppGroup("locations", help="Places every backup is also copied to (SPEC §14).")
backup_cli.add_command(locations_cli)


def _location(name):
    row = BackupLocation.get_or_none(BackupLocation.name == name)
    if row is None:
        known = ", ".join(r.name for r in locations.list_locations()) or "none"
        fail(f'there is no location named "{name}" (locations: {known})')
    return row


def _remote(work):
    """``work()`` for the location commands: a failing location exits 1 with its reason."""
    try:
        return work()
    except LocationError as exc:
        fail(f"the location failed: {exc}")


@locations_cli.command("list")
def locations_list():
    """Each location: name, kind, enabled, pending copies, last success and last failure."""
    for state in _run(copies.status):
        when = state["last_success_at"].strftime("%Y-%m-%d %H:%M UTC") if state["last_success_at"] else "never"
        line = f"{state['name']}\t{state['kind']}\t{'on' if state['enabled'] else 'off'}\t"
        line += f"{state['pending']} pending\tlast copy {when}"
        click.echo(line + (f"\tlast failure: {state['last_failure']}" if state["last_failure"] else ""))


@locations_cli.command("test")
@click.argument("name")
def locations_test(name):
    """Write, read back and delete a probe file at location NAME."""
    found = _run(lambda: _remote(lambda: locations.test_connection(_location(name))))
    extra = ", ".join(f"{k} {v}" for k, v in found.items() if k not in ("ok", "host_key_pinned"))
    click.echo(f'OK: location "{name}" works{f" ({extra})" if extra else ""}')
    if found["host_key_pinned"]:
        click.echo("The server's host key was pinned: a different key is refused from now on.")


@locations_cli.command("files")
@click.argument("name")
def locations_files(name):
    """The backup files at location NAME: name, size, time."""
    listed = _run(lambda: _remote(lambda: locations.location_files(_location(name))))
    for remote in listed:
        when = remote.modified.strftime("%Y-%m-%d %H:%M:%S") if remote.modified else "-"
        click.echo(f"{remote.name}\t{human_size(remote.size)}\t{when}")
    if not listed:
        click.echo(f'No backup files at location "{name}".')


@locations_cli.command("fetch")
@click.argument("name")
@click.argument("file_name")
@_opening_options
def locations_fetch(name, file_name, identity_file, passphrase_stdin):
    """Copy FILE_NAME from location NAME into the backup folder as an imported backup, validated first
    (restore it afterwards with `backup restore`)."""

    def work():
        identity, phrase = _opening(identity_file, passphrase_stdin)
        limit = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
        data = _remote(lambda: locations.fetch_bytes(_location(name), file_name, limit))
        return service.import_backup(data, source=file_name, identity=identity, phrase=phrase)

    entry, _valid = _run(work)
    click.echo(f"Fetched {file_name} as {entry.name}; restore it with: flask --app app backup restore {entry.name}")


@backup_cli.command("prune")
def prune():
    """Apply retention now: automatic backups beyond the setting, safety backups beyond five."""

    def work():
        store = service.get_store()
        with service.lock():
            keep = get_setting("backup_auto_retention")
            return store.apply_retention(keep) + store.prune_safety(SAFETY_KEEP)

    deleted = _run(work)
    for name in deleted:
        click.echo(f"Deleted {name}")
    if not deleted:
        click.echo("Nothing to delete.")
