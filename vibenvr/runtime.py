"""Tables outside the backup: the state of the running service, not its configuration (SPEC §12, §19).

A restore never touches them and no backup carries them. Each table is added by a numbered migration
(``vibenvr/migrations.py``) and listed in ``STATE_MODELS`` so that a new install creates it too.
"""

from peewee import BigIntegerField, BooleanField, CharField, DateTimeField, IntegerField, Model

from .db import db


class StateModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


STATE_MODELS = []  # every StateModel subclass, in creation order


class TotpLastStep(StateModel):
    """The latest TOTP time step accepted for each user: a code of that step or an earlier one is never
    accepted again, in any worker, after a restart or a restore (``auth.twofactor.accept_totp``)."""

    user_id = IntegerField(unique=True)  # no foreign key: a restore deletes and re-inserts users
    step = BigIntegerField()
    used_at = DateTimeField()


class SignInFailure(StateModel):
    """One failed sign-in (password, TOTP or recovery code, re-typed password) counted against a bucket:
    ``scope`` "account" (the lower-cased username) or "address" (the client's address); see
    ``auth.ratelimit``. Rows older than the longest window are pruned when the next failure is counted."""

    scope = CharField(max_length=16)
    key = CharField(max_length=255)
    at = DateTimeField(index=True)

    class Meta:
        indexes = ((("scope", "key", "at"), False),)


STATE_MODELS += [TotpLastStep, SignInFailure]


class UserSession(StateModel):
    """A signed-in browser (``auth.sessions``): the cookie holds a random id inside Flask's signed session,
    this row its SHA-256. Sign-out deletes the row, so a copied cookie stops working; a row whose user is
    gone, disabled or has another password hash (``password_mark``) no longer signs anyone in."""

    session_hash = CharField(unique=True, max_length=64)
    user_id = IntegerField(index=True)  # no foreign key: a restore deletes and re-inserts users
    password_mark = CharField(max_length=64)  # SHA-256 of the user's id and password hash; never sent
    is_pending = BooleanField(default=False)  # the password was right, the 2FA code is still to come
    created_at = DateTimeField()
    last_seen_at = DateTimeField(index=True)
    user_agent = CharField(default="", max_length=300)
    address = CharField(default="", max_length=64)


STATE_MODELS.append(UserSession)


class LocationCopy(StateModel):
    """One backup file and one location (SPEC §14): pending until its copy is written there and checked,
    then done with the size and SHA-256 the location holds. Only names recorded here are ever deleted at
    a location: nothing this server did not write."""

    location_id = IntegerField()  # no foreign key: a restore deletes and re-inserts locations
    name = CharField(max_length=255)  # the local backup file
    remote_name = CharField(max_length=255)  # the name at the location (``.age`` added when encrypted there)
    backup_kind = CharField(max_length=10)
    state = CharField(max_length=10, default="pending")  # pending, done, deleted
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField()
    last_error = CharField(default="", max_length=500)
    size = BigIntegerField(null=True)
    sha256 = CharField(default="", max_length=64)
    created_at = DateTimeField()
    copied_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("location_id", "name"), True),)


class LocationStatus(StateModel):
    """What the System Backups page shows of each location: its last success and its last failure."""

    location_id = IntegerField(unique=True)
    last_success_at = DateTimeField(null=True)
    last_failure_at = DateTimeField(null=True)
    last_failure = CharField(default="", max_length=500)
    last_reason = CharField(default="", max_length=20)  # a key of transport.REASONS


STATE_MODELS += [LocationCopy, LocationStatus]
