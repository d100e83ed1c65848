"""Backup locations (SPEC §14): places a copy of every backup goes after it is written locally.

``schema`` the fields and their checks; ``service`` add/change/delete and the test, files and fetch;
``transport`` the interface every kind implements, ``kinds`` which class serves a kind, ``folder`` (and the
network kinds) the implementations; ``copies`` the copies the scheduler sends; ``api`` the JSON face,
``routes`` + ``forms`` the Locations panel of Settings > System Backups.
"""
