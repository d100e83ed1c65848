"""Running a list of checks: one line per check, every check run even when one fails."""

from dataclasses import dataclass

from .guard import describe


class CheckFailure(AssertionError):
    """A check found the system behaving wrongly; the message says what was expected and what happened."""


class ChecksFailed(AssertionError):
    """Raised after the last check when any failed, so the guard records the run as failed."""


def expect(condition, message):
    if not condition:
        raise CheckFailure(message)


def refused(action, errors, what):
    """Run ``action``, which must raise one of ``errors``; return the error's message."""
    try:
        action()
    except errors as exc:
        return str(exc)
    raise CheckFailure(f"{what} was accepted; it must be refused")


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self):
        return f"  {'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def run_checks(checks, context, echo, results):
    """Run ``checks`` (``[(name, function(context) -> summary)]``), appending to ``results`` and echoing
    each line as it finishes; raise ChecksFailed at the end if any failed. Ctrl-C is not caught here."""
    for name, check in checks:
        try:
            detail = check(context)
        except Exception as exc:
            result = CheckResult(name, False, describe(exc))
        else:
            result = CheckResult(name, True, detail or "ok")
        results.append(result)
        echo(result.line())
    failed = [r.name for r in results if not r.ok]
    if failed:
        raise ChecksFailed(f"{len(failed)} of {len(results)} checks failed ({', '.join(failed)})")


def select(checks, only):
    """The checks named in ``only`` (all when empty), in their usual order; ValueError names unknown ones."""
    if not only:
        return list(checks)
    names = [name for name, _check in checks]
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; the checks are {', '.join(names)}")
    return [(name, check) for name, check in checks if name in only]
