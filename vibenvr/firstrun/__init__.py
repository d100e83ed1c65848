"""The restore on /setup: a fresh install gets its configuration back from a backup (SPEC §16).

- ``routes``     the blueprint ``firstrun`` (/setup/restore): the page, the setup code, preview and restore
- ``ways``       the three ways to the file: an upload, the backup folder, a backup location typed in
- ``page``       what those pages share: who may use them, the page with its ways, redirects
- ``files``      opening a backup file (plain or age) and saying what it holds (counts, administrators)
- ``locations``  a backup location typed in: its form, listing and fetching through its Transport
- ``sealed``     a location's settings carried between two requests, readable by this server only
- ``staging``    the chosen file, kept in ``<data>/setup_restore/`` between its preview and its restore

/setup itself (the two choices, and creating the first administrator) is ``auth.routes.setup``.
"""
