"""Opening a backup for a restore on /setup, and saying what it holds before anything changes (SPEC §16)."""

from ..backups.document import envelope
from ..backups.document.validate import validate_file
from ..backups.names import is_encrypted_name


def open_backup(data, source, identities=(), phrase=None):
    """``(ValidBackup, plain bytes)``: the file validated as ``validate_file`` does (an age file opened with
    ``identities`` or ``phrase``, for this call only), with the JSON it holds, which is what gets restored."""
    if envelope.is_encrypted(data) or is_encrypted_name(source):
        plain = envelope.decrypt(data, identities, phrase, source)
        valid = validate_file(plain, source=plain_source(source))
        valid.encrypted = True
        return valid, plain
    return validate_file(data, source=source), bytes(data)


def plain_source(name):
    """The name to validate decrypted JSON under: ``….json.age`` names an age file, which the JSON is not."""
    return name[: -len(".age")] if name.lower().endswith(".age") else name


def admin_users(valid):
    """The active administrators in the backup (its user items): the accounts that can sign in afterwards."""
    return [u for u in valid.doc["users"] if u.get("role") == "admin" and u.get("is_active", True)]


def admins(valid):
    return [u["username"] for u in admin_users(valid)]


def either(names):
    """'anna', 'anna or bob', 'anna, bob or carol'."""
    names = list(names)
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _count(number, one, many=None):
    return f"{number} {one if number == 1 else (many or one + 's')}"


def holds(valid):
    """'12 cameras, 2 groups, 3 users (admins: anna, bob) and 24 settings': cameras and users always, the other
    sections when the backup has some of them."""
    counts, names = valid.counts, admins(valid)
    users = _count(counts.get("users", 0), "user")
    if names:
        users += f" (admin{'s' if len(names) != 1 else ''}: {', '.join(names)})"
    parts = [_count(counts.get("cameras", 0), "camera")]
    for section, one in (("groups", "group"), ("storage_profiles", "storage profile")):
        if counts.get(section):
            parts.append(_count(counts[section], one))
    parts.append(users)
    for section, one in (("api_tokens", "API token"), ("backup_locations", "backup location")):
        if counts.get(section):
            parts.append(_count(counts[section], one))
    parts.append(_count(counts.get("settings", 0), "setting"))
    return ", ".join(parts[:-1]) + " and " + parts[-1]
