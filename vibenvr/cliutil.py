"""What the terminal commands share: a database connection for the command, and failing with a message."""

from contextlib import contextmanager

import click
from flask import current_app

from .db import BUSY_MESSAGES, busy_status, db


@contextmanager
def command_database():
    """A connection for the command; one already open (a test's) is reused and left open. A damaged or
    unreadable database ends the command with what to do (SPEC §12)."""
    refuse_unusable_database()
    opened = db.connect(reuse_if_open=True)
    try:
        yield
    except Exception as exc:
        busy = busy_status(exc)  # a lock not had in time: say so, not a traceback (SPEC §12)
        if not busy:
            raise
        fail(BUSY_MESSAGES[busy])
    finally:
        if opened:
            db.close()


def refuse_unusable_database(done="nothing was changed"):
    """Exit 1 with the problem and what to do when the database cannot be used; return otherwise."""
    health = current_app.extensions.get("dbhealth")
    if health is not None and health.problem is not None:
        fail(f"{health.problem.headline()}; {done}.", health.advice(), bullet="")


def fail(message, lines=(), bullet="- "):
    """Print ``Error: message`` (and indented ``lines``) to standard error and exit with status 1."""
    click.echo(f"Error: {message}", err=True)
    for line in lines:
        click.echo(f"  {bullet}{line}", err=True)
    raise SystemExit(1)
