"""Validation of a backup's sections: types and ranges, unique keys and references, all errors collected.

The camera, group and storage-profile rules are the API's own schemas and the settings go through the
registry's ``coerce``, so a value the API refuses is refused here too. Every message names the
section, the item (position and name) and the field:
``cameras[3] "Garage": privacy_masks[0] has 2 points, a polygon needs at least 3``.
"""

from ...settings.registry import SETTINGS, coerce
from ...validation import FieldError, ValidationError, clean_object, text
from ..errors import BackupError
from .canonical import HEADER, KINDS, LEGACY_VERSION, SECTIONS, TOP_LEVEL
from .schema import ITEM_CHECKS, ITEM_SCHEMAS, LABEL, SETTINGS_EXTRA, UNIQUE, iso_time

MAX_ERRORS = 50


class _Full(Exception):
    pass


class Problems:
    """Collects error messages, stopping once there are MAX_ERRORS of them."""

    def __init__(self):
        self.errors = []

    def add(self, message):
        self.errors.append(str(message).replace(":  ", ": "))
        if len(self.errors) >= MAX_ERRORS:
            raise _Full

    def raise_if_any(self, status=422):
        if self.errors:
            raise BackupError(self.errors, status=status)


def label(section, index, item):
    """``cameras[3] "Garage"``: the item's position, and its name when it has one."""
    name = item.get(LABEL.get(section, ""), None) if isinstance(item, dict) else None
    if section in ("recovery_codes",) and isinstance(item, dict):
        name = item.get("username")
        return f'{section}[{index}] (user "{name}")' if isinstance(name, str) else f"{section}[{index}]"
    return f'{section}[{index}] "{name}"' if isinstance(name, str) and name.strip() else f"{section}[{index}]"


def check_sections(data, consume=False):
    """Validate every section of a document in the current version; return it normalised or raise BackupError.

    ``consume`` lets the check drop each raw section once validated (only for a document it may spoil).
    """
    problems = Problems()
    try:
        doc = _check_all(data, problems, consume)
    except _Full:
        problems.errors.append(f"… stopped after {MAX_ERRORS} problems; fix these and check the file again")
        doc = None
    problems.raise_if_any()
    return doc


def _check_all(data, problems, consume):
    header = _check_header(data, problems)
    missing = [s for s in SECTIONS if s not in data]
    for section in missing:
        problems.add(f"{section}: the section is missing")
    _check_counts(data.get("counts"), data, problems)
    present = _present(data) if not missing else None
    sections = {}
    if "settings" in data:
        sections["settings"] = _check_settings(data["settings"], problems)
    for section in SECTIONS[1:]:
        if section in data:
            sections[section] = _check_items(section, data[section], problems)
            if consume:
                data[section] = None  # the raw items are no longer needed: a large restore peaks lower
    if not missing:
        _check_unique(sections, problems)
        _check_references(sections, present, problems)
    if problems.errors:
        return None
    return _normalised(header, sections)


def _check_header(data, problems):
    """The header fields of a current-version document (the top-level keys known, timestamp, kind, app version)."""
    for key in data:
        if key not in TOP_LEVEL:
            problems.add(f"{key} is not a known top-level key of a backup")
    header = {"format": data.get("format"), "schema_version": data.get("schema_version"), "version": LEGACY_VERSION}
    try:
        header["timestamp"] = iso_time()(data.get("timestamp"), "timestamp")
    except FieldError as exc:
        problems.add(exc)
    kind = data.get("kind")
    if kind not in KINDS:
        problems.add(f"kind is {kind!r}; it must be one of {', '.join(KINDS)}")
    header["kind"] = kind
    try:
        header["app_version"] = text(50, required=True)(data.get("app_version"), "app_version")
    except FieldError as exc:
        problems.add(exc)
    return header


def _normalised(header, sections):
    """The checked document, each section in the order export writes it, so a round trip is exact."""
    for section, items in sections.items():
        if section == "associations":
            items.sort(key=lambda link: (link["camera_id"], link["group_id"]))
        elif section != "settings":
            items.sort(key=lambda item: item["id"])
    doc = {key: header[key] for key in HEADER if key in header}
    doc["counts"] = {section: len(sections[section]) for section in SECTIONS}
    doc.update((section, sections[section]) for section in SECTIONS)
    return doc


def _check_counts(counts, data, problems):
    if not isinstance(counts, dict):
        problems.add("counts must be an object of section -> number of rows")
        return
    for section, number in counts.items():
        actual = data.get(section)
        if not isinstance(actual, list | dict):
            if section not in data:
                problems.add(f"counts.{section} names a section the file does not have")
            continue
        if number != len(actual):
            problems.add(f"counts.{section} says {number!r}, but the section has {len(actual)}")


def _check_settings(raw, problems):
    if not isinstance(raw, dict):
        problems.add("settings must be an object of setting key -> value")
        return {}
    clean = {}
    for key, value in raw.items():
        try:
            clean[key] = SETTINGS_EXTRA(value, key) if key == "extra" else coerce(key, value)
        except FieldError as exc:
            problems.add(f"settings.{exc}")
    result = {key: clean.get(key, definition.default) for key, definition in SETTINGS.items()}
    if clean.get("extra"):  # settings this version does not use (from a VibeNVR 1.x file), kept
        result["extra"] = clean["extra"]
    return result


def _check_items(section, raw, problems):
    if not isinstance(raw, list):
        problems.add(f"{section} must be a list of objects")
        return []
    schema = ITEM_SCHEMAS[section]
    clean_items = []
    for index, item in enumerate(raw):
        where = label(section, index, item)
        if not isinstance(item, dict):
            problems.add(f"{where} must be an object")
            continue
        try:
            clean, _ = clean_object(schema, item, prefix=f"{where}: ")
        except ValidationError as exc:
            for error in exc.errors:
                problems.add(error)
            continue
        wrong = ITEM_CHECKS[section](clean) if section in ITEM_CHECKS else []
        for error in wrong:
            problems.add(error.prefixed(f"{where}: "))
        if not wrong:
            clean_items.append(clean)
    return clean_items


def _check_unique(sections, problems):
    for section, schema in ITEM_SCHEMAS.items():
        keys = (("id",) if "id" in schema else ()) + UNIQUE.get(section, ())
        for key in keys:
            seen = {}
            for index, item in enumerate(sections[section]):
                value = item[key]
                if value in seen:
                    shown = value if isinstance(value, int) else f'"{value}"'
                    problems.add(
                        f"{label(section, index, item)}: {key} {shown} is already used by "
                        f"{label(section, seen[value], sections[section][seen[value]])}"
                    )
                else:
                    seen[value] = index
    seen = set()
    for index, link in enumerate(sections["associations"]):
        pair = (link["camera_id"], link["group_id"])
        if pair in seen:
            problems.add(f"associations[{index}]: camera {pair[0]} is linked to group {pair[1]} twice")
        seen.add(pair)


def _present(data):
    """Ids and usernames the file has, valid items or not: an item with a bad field is reported once,
    not again by every reference to it."""

    def values(section, key):
        items = data[section] if isinstance(data[section], list) else []
        found = [item.get(key) for item in items if isinstance(item, dict)]
        return {v.strip() if isinstance(v, str) else v for v in found if isinstance(v, int | str)}

    present = {s: values(s, "id") for s in ("storage_profiles", "cameras", "groups")}
    present["usernames"] = values("users", "username")
    return present


def _check_references(sections, ids, problems):
    for index, camera in enumerate(sections["cameras"]):
        profile = camera["storage_profile_id"]
        if profile is not None and profile not in ids["storage_profiles"]:
            problems.add(
                f"{label('cameras', index, camera)}: storage_profile_id refers to storage profile "
                f"{profile}, which is not in the backup"
            )
    for index, link in enumerate(sections["associations"]):
        for key, target in (("camera_id", "cameras"), ("group_id", "groups")):
            if link[key] not in ids[target]:
                problems.add(
                    f"associations[{index}]: {key} {link[key]} refers to a {target[:-1]} that is not in the backup"
                )
    _check_users(sections["users"], ids, problems)
    usernames = ids["usernames"]
    for section in ("api_tokens", "recovery_codes", "trusted_devices"):
        for index, item in enumerate(sections[section]):
            if item["username"] not in usernames:
                problems.add(
                    f'{label(section, index, item)}: username "{item["username"]}" is not a user in the backup'
                )


def _check_users(users, ids, problems):
    """Each user's allowed cameras and groups are in the backup, and 2FA on has its secret."""
    for index, user in enumerate(users):
        for key, target in (("allowed_camera_ids", "cameras"), ("allowed_group_ids", "groups")):
            missing = [i for i in user[key] if i not in ids[target]]
            if missing:
                problems.add(
                    f"{label('users', index, user)}: {key} refers to {target} that are not in the backup: {missing}"
                )
        if user["is_2fa_enabled"] and not user["totp_secret"]:
            problems.add(f"{label('users', index, user)}: is_2fa_enabled is true but totp_secret is empty")
