"""Tables outside the backup: the state of the running service, not its configuration (SPEC §12, §19).

A restore never touches them and no backup carries them. Each table is added by a numbered migration
(``vibenvr/migrations.py``) and listed in ``STATE_MODELS`` so that a new install creates it too.
"""

from peewee import Model

from .db import db


class StateModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


STATE_MODELS = []  # every StateModel subclass, in creation order
