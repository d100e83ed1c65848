"""``flask --app app sanity …``: the zero-trace sanity checks from the terminal (SPEC §10, §11).

Exit codes of ``run``: 0 clean, 1 checks failed (configuration restored), 3 restored from a recent
automatic backup, 4 fallback refused (restore by hand), 5 not started, 2 usage.
"""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..backups.automation.pause import current_pause, end_pause
from ..backups.service import clock
from ..cliutil import command_database
from ..timeutil import iso
from .checks import CHECKS
from .local import run_guarded
from .runner import select

sanity_cli = AppGroup("sanity", help="Zero-trace sanity checks of this system's configuration.")
NAMES = [name for name, _check in CHECKS]


@sanity_cli.command("run")
@click.option("--only", multiple=True, type=click.Choice(NAMES), help="Run only this check (repeatable).")
def run(only):
    """Run intrusive checks, then put the configuration back exactly.

    \b
    Exit codes: 0 clean (zero trace), 1 checks failed but the configuration was restored,
    3 restored from an automatic backup at most 60 minutes old, 4 fallback refused (a
    manual restore is needed; the report says which file), 5 not started (nothing changed).
    """
    with command_database():
        code, _report, _results = run_guarded(select(CHECKS, only), echo=click.echo)
    sys.exit(code)


@sanity_cli.command("resume")
def resume():
    """End a pause of automatic backups left by a sanity run (after a manual restore, for instance)."""
    folder = current_app.config["DATA_DIR"]
    pause = current_pause(folder, clock())
    removed = end_pause(folder)
    if pause:
        click.echo(f"Automatic backups resumed (they were paused until {iso(pause.until)} by {pause.by}).")
    elif removed:
        click.echo("Removed an expired pause file; automatic backups were already running.")
    else:
        click.echo("Automatic backups were not paused.")
