"""What the terminal commands share: a database connection for the command, and failing with a message."""

from contextlib import contextmanager

import click

from .db import db


@contextmanager
def command_database():
    """A connection for the command; one already open (a test's) is reused and left open."""
    opened = db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened:
            db.close()


def fail(message, lines=()):
    """Print ``Error: message`` (and indented ``lines``) to standard error and exit with status 1."""
    click.echo(f"Error: {message}", err=True)
    for line in lines:
        click.echo(f"  - {line}", err=True)
    raise SystemExit(1)
