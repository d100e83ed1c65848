"""The backup engine (SPEC §4–§7): backup files, restoring them, and the faces that reach them.

What is where:

- ``document/``   the file itself: export, canonical bytes and checksum, validation, item schemas, 1.x files
- ``store``       backup files on disk: atomic writes, listing without parsing, retention;
  ``names`` the file names (generated, 1.x, addressable, shown, suggested)
- ``restore``     applying a validated document in one transaction (``replace``, sections);
  ``merge`` adds and updates by natural key; ``rebuild`` restores over a damaged SQLite file
- ``automation/`` the scheduler thread, the rules of automatic backups, their status, the pause
- ``locking``     fcntl locks in the data folder: one backup operation at a time, one scheduler per folder
- ``service``     the engine inside the app: what the pages, the API, the terminal and the scheduler call
- ``routes`` (System Backups pages), ``api`` (``/api/backups``, ``/api/config``), ``cli`` (``flask backup``),
  with ``overview`` (what the page shows) and ``web`` (what pages and API share): the faces, thin
- ``errors``      the engine's errors, each with a message a person can act on and its HTTP status (answered
  app-wide by ``vibenvr/errors.py``)

The spine of a restore: the click on *Restore* → ``routes.restore`` (or ``api.restore_named``,
``cli.restore``) → ``service.restore`` (lock, safety backup) → ``document.validate.validate_document`` →
``restore.restore_document`` (one transaction) → ``signals.config_restored`` (caches, the schedule).
``store``, ``names``, ``restore``, ``merge`` and ``document`` know nothing of Flask.
"""
