"""Automatic backups (SPEC §7): when they run, what they do, and what the page says about them.

- ``scheduler``  the daemon thread with its own ``schedule.Scheduler``, started at boot in one process
  per data folder (a lock file), woken by a change of settings or a restore in any process
- ``rules``      the rules without the thread: plan the next run, run it when due (retention after it), startup
  protection (``AutoBackups``)
- ``status``     the outcome of the last run, in ``<data>/backup_status.json``, for the page and the API
- ``changes``    the change mark that tells the scheduler of other processes' settings changes and restores
- ``pause``      automatic backups paused while a zero-trace sanity run is in progress

The spine of an automatic backup: ``scheduler.BackupScheduler`` tick → ``rules.AutoBackups.tick`` →
``service.create_backup("auto")`` → retention in ``store`` → ``status.record``.
"""
