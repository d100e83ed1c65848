"""Zero-trace sanity checks (SPEC §11): intrusive checks of a live system, inside a guard that puts the
configuration back exactly.

- ``guard``         the zero-trace guard: pause automatic backups, snapshot in memory, run, restore, compare;
  ``guard_report`` what it reports, ``fallback`` which automatic backup may stand in for a lost snapshot
- its two targets: ``local_target.LocalTarget`` (this process: the database and the data folder) and
  ``remote.HttpTarget`` (a running server, over the JSON API, for ``scripts/refactoring_sanity.py``)
- ``checks`` (in process) and ``remote_checks`` (over HTTP), ``access`` (a viewer gets 403 on every admin
  route), ``hostile`` (the files import must refuse), ``values`` (another valid value for each setting)
- ``runner`` runs a list of checks, one line each; ``local`` runs the in-process ones inside the guard
  (``flask --app app sanity run``, ``cli``); ``api`` is ``/api/sanity/pause`` for the HTTP script

The spine: ``cli.run`` → ``local.run_guarded`` → ``guard.ZeroTraceGuard`` (snapshot) → ``runner.run_checks``
→ the guard's restore of the snapshot → ``guard_report.GuardReport``.
"""
