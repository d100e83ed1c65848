"""Zero-trace sanity checks (SPEC §11): intrusive checks of a live system, inside a guard that puts the
configuration back exactly.

- ``guard``         the zero-trace guard: pause automatic backups, snapshot in memory, run, restore, compare;
  ``guard_report`` what it reports, ``fallback`` which automatic backup may stand in for a lost snapshot
- its two targets: ``local_target.LocalTarget`` (this process: the database and the data folder) and
  ``remote.HttpTarget`` (a running server, over the JSON API, for ``scripts/refactoring_sanity.py``)
- ``checks``: the nine checks, written once against ``client.Client`` (``call(method, path, body)`` →
  ``(status, json)``) and its two adapters: ``inprocess.AppClient`` (this app's test client, signed in as
  an administrator the run makes and deletes) and ``remote.Http`` (a running server); ``access`` walks
  ``app.url_map`` (the in-process viewer check, and the permission-matrix test), ``hostile`` (the files
  import must refuse), ``values`` (another valid value for each setting)
- ``runner`` runs a list of checks, one line each; ``local`` runs them in process inside the guard
  (``flask --app app sanity run``, ``cli``); ``api`` is ``/api/sanity/pause`` for the HTTP script

The spine: ``cli.run`` → ``local.run_guarded`` → ``guard.ZeroTraceGuard`` (snapshot) → ``runner.run_checks``
(``checks`` → ``inprocess.AppClient``) → the guard's restore of the snapshot → ``guard_report.GuardReport``.
"""
