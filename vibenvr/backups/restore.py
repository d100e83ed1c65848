"""Applying a validated backup to the database (SPEC §6), all or nothing.

No Flask here. ``restore_document`` runs in one ``db.atomic()`` transaction: any failure rolls back
every change. ``replace`` makes the configuration exactly the backup's, ids included.
"""

from dataclasses import dataclass, field

import peewee
from peewee import PeeweeException
from psycopg2.extras import execute_batch

from ..db import BUSY_MESSAGES, busy_status, db, write_transaction
from ..models import Setting, User
from .document.canonical import SECTIONS
from .document.columns import TABLES, insert_sql, write_converters
from .errors import RestoreFailed, RestoreRefused
from .merge import NAMED, merge

MODES = ("replace", "merge")
# Restoring a section also restores these, so no reference is left dangling.
DEPENDANTS = {
    "storage_profiles": ("cameras",),
    "cameras": ("associations", "users"),
    "groups": ("associations", "users"),
    "users": ("api_tokens", "recovery_codes", "trusted_devices"),
}


@dataclass
class RestoreResult:
    mode: str
    sections: tuple
    counts: dict = field(default_factory=dict)

    def to_dict(self):
        return {"mode": self.mode, "sections": list(self.sections), "counts": dict(self.counts)}


def resolve_sections(sections=None):
    """The sections a restore touches: those asked for plus their dependants, in file order."""
    if not sections:
        return SECTIONS
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise RestoreRefused(
            f"unknown section(s) {', '.join(map(str, unknown))}; the sections are {', '.join(SECTIONS)}"
        )
    wanted = set(sections)
    changed = True
    while changed:
        changed = False
        for section in list(wanted):
            for dependant in DEPENDANTS.get(section, ()):
                if dependant not in wanted:
                    wanted.add(dependant)
                    changed = True
    return tuple(s for s in SECTIONS if s in wanted)


def check_restorable(valid, mode="replace", sections=None, force=False):
    """Refuse (RestoreRefused, 409) what must not be restored; return the sections to restore.

    A restore that would leave no active administrator is refused unless ``force``.
    """
    if mode not in MODES:
        raise RestoreRefused(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    chosen = resolve_sections(sections)
    if chosen != SECTIONS:  # with every section, nothing lies outside them
        check_references(valid.doc, chosen, mode)
    if not force and "users" in chosen and not _admin_remains(valid.doc["users"], mode):
        raise RestoreRefused(
            "the backup has no active administrator, so restoring it would lock everyone out; "
            "restore it from the terminal with --force if that is really wanted"
        )
    return chosen


def check_references(doc, chosen, mode):
    """Refuse a restore of some sections whose items refer to rows outside them that the database lacks.

    A replace keeps the other sections, ids included, so it looks for the ids; a merge gives new ids, so
    it looks for the natural keys the file's ids stand for (``merge.NAMED``). Tokens, codes and devices
    refer to their owner by username.
    """
    wanted = {section: set() for section in NAMED}
    if "cameras" in chosen:
        wanted["storage_profiles"] |= {c["storage_profile_id"] for c in doc["cameras"] if c["storage_profile_id"]}
    if "associations" in chosen:
        wanted["cameras"] |= {a["camera_id"] for a in doc["associations"]}
        wanted["groups"] |= {a["group_id"] for a in doc["associations"]}
    if "users" in chosen:
        for user in doc["users"]:
            wanted["cameras"] |= set(user["allowed_camera_ids"])
            wanted["groups"] |= set(user["allowed_group_ids"])
    owners = (
        set()
        if "users" in chosen
        else {r["username"] for s in ("api_tokens", "recovery_codes", "trusted_devices") if s in chosen for r in doc[s]}
    )
    missing = []
    for section, ids in wanted.items():
        if section in chosen or not ids:
            continue
        model, key = NAMED[section]
        if mode == "merge":
            names = {item["id"]: item[key] for item in doc[section]}
            present = _present(getattr(model, key), {names[i] for i in ids})
            missing += [f'{section} "{names[i]}"' for i in sorted(ids) if names[i] not in present]
        else:
            missing += [f"{model.__name__} {i!r}" for i in sorted(ids - _present(model.id, ids), key=str)]
    absent = sorted(owners - _present(User.username, owners))
    if mode == "merge":
        missing += [f'user "{u}"' for u in absent]
        if missing:
            raise RestoreRefused(
                "the merge refers to rows that are neither in the chosen sections nor in the "
                f"current configuration: {', '.join(sorted(set(missing)))}; add those sections"
            )
    else:
        missing += [f"User {u!r}" for u in absent]
        if missing:
            raise RestoreRefused(
                "the chosen sections refer to rows the current configuration does not have: "
                f"{', '.join(missing)}; restore those sections too"
            )


def _present(field, values):
    """Which of ``values`` the column ``field`` holds."""
    if not values:
        return set()
    return {value for (value,) in field.model.select(field).where(field.in_(list(values))).tuples()}


def _admin_remains(users, mode):
    if any(u["role"] == "admin" and u["is_active"] for u in users):
        return True
    if mode == "merge":  # existing admins stay unless the backup demotes or disables them
        incoming = {u["username"] for u in users}
        return (
            User.select()
            .where((User.role == "admin") & User.is_active_user & User.username.not_in(incoming or [""]))
            .exists()
        )
    return False


def restore_document(valid, mode="replace", sections=None, force=False):
    """Apply ``valid`` (a ValidBackup) in one transaction; return a RestoreResult with counts.

    The transaction holds the write lock from its start (``write_transaction``, as every write does), so
    a write waits for the restore and then sees it, and the checks see what the restore replaces.
    """
    try:
        with write_transaction():
            chosen = check_restorable(valid, mode, sections, force)
            result = RestoreResult(mode, chosen)
            if mode == "replace":
                _replace(valid.doc, chosen, result)
            else:
                merge(valid, chosen, result)
            _advance_sequences(chosen)
    except Exception as exc:
        busy = busy_status(exc)
        if busy:
            raise RestoreFailed(BUSY_MESSAGES[busy]) from exc
        if not isinstance(exc, PeeweeException):
            raise
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RestoreFailed(
            f"the database refused the restore ({reason}); it was rolled back and nothing changed"
        ) from exc
    return result


def _replace(doc, chosen, result):
    tables = [t for t in TABLES if t.section in chosen]
    for table in reversed(tables):  # children first
        table.model.delete().execute()
    if "settings" in chosen:
        Setting.delete().execute()
        rows = [(key, Setting.value.db_value(value)) for key, value in doc["settings"].items()]
        _insert(insert_sql(Setting, (Setting.key, Setting.value)), rows)
        result.counts["settings"] = len(rows)
    user_ids = {u["username"]: u["id"] for u in doc["users"]}
    if "users" not in chosen:
        user_ids = dict(User.select(User.username, User.id).tuples())
    for table in tables:
        rows = rows_for(table, doc[table.section], user_ids)
        _insert(insert_sql(table.model, [c.write_field for c in table.columns]), rows)
        result.counts[table.section] = len(doc[table.section])


def rows_for(table, items, user_ids):
    """The items of a section as parameter lists in the table's column order, one at a time."""
    keys = table.keys
    converters = write_converters(table)
    owner = next((i for i, column in enumerate(table.columns) if column.kind == "owner"), None)
    for item in items:
        row = [item[key] for key in keys]
        for i, convert in converters:
            if row[i] is not None:
                row[i] = convert(row[i])
        if owner is not None:
            row[owner] = user_ids[row[owner]]
        yield row


def _insert(sql, rows):
    """Run ``sql`` for every row (an iterable, so a large section is never held twice)."""
    cursor = db.cursor()
    with peewee.__exception_wrapper__:  # driver errors become Peewee's, as for any other query
        if _is_postgres():
            execute_batch(cursor, sql, rows, page_size=500)
        else:
            cursor.executemany(sql, rows)


def _is_postgres():
    return type(db.obj).__name__.startswith("Postgres")


def _advance_sequences(chosen):
    """On PostgreSQL, move each id sequence past the restored ids (SQLite needs nothing)."""
    if not _is_postgres():
        return
    for table in TABLES:
        if table.section in chosen and "id" in table.keys:
            name = table.model._meta.table_name
            sql = (
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608 - names from models
                f'COALESCE((SELECT MAX("id") FROM "{name}"), 0) + 1, false)'
            )
            db.execute_sql(sql)
