"""Zero-trace sanity checks (SPEC §11): intrusive checks of a live system, run inside the backup guard.

``flask --app app sanity run`` runs them in process (``checks``, ``access``); ``scripts/refactoring_sanity.py``
runs the same kind over the HTTP API (``remote``, ``remote_checks``). ``hostile`` and ``values`` are shared.
"""
