"""A semantic diff of two configurations (SPEC §15): what restoring one over the other would change.

``diff_documents(old, new)`` compares two validated documents (``ValidBackup.doc``, or ``export_document()``
for the configuration now) section by section. Items are matched by id, then by natural key (a name, a
username, a token hash): ids may differ between two backups of the same configuration, so an item whose id
matches is the same item (a changed name is a rename), and an unmatched item whose natural key matches is
the same item under another id. References (a camera's storage profile, a user's allowed cameras and groups,
associations) are compared through that matching and shown by name, so different ids alone are no change.

Secrets are reported as changed, never with their values; URLs are shown with their passwords masked.
Everything is built from one pass over each section (dicts, no nested scans), so the work is linear in the
size of the two documents. The answer is plain JSON:
``{"identical", "security": [sentence], "sections": {section: {"added", "removed", "changed", "unchanged"}}}``.
"""

from ...cameras.validators import WEEKDAYS
from ...masking import is_secret_name, mask_url
from ...settings.registry import SETTINGS
from .canonical import SECTIONS
from .checks import label

#: Fields whose values are never shown, only that they changed.
SECRETS = frozenset(
    {
        "hashed_password",
        "totp_secret",
        "password",
        "private_key",
        "secret_access_key",
        "smtp_password",
        "telegram_bot_token",
        "onvif_password",
        "code_hash",
        "token_hash",
    }
    | {key for key, definition in SETTINGS.items() if definition.is_secret}
)
#: Fields holding URLs that may carry credentials: shown through ``mask_url``.
URLS = frozenset(
    {"rtsp_url", "sub_rtsp_url", "url", "endpoint_url"} | {key for key, d in SETTINGS.items() if d.masked_url}
)
POLYGONS = frozenset({"privacy_masks", "motion_zones"})
#: What names an item across backups, besides its id.
NATURAL = {
    "storage_profiles": lambda item: item["name"],
    "cameras": lambda item: item["name"],
    "groups": lambda item: item["name"],
    "backup_recipients": lambda item: item["name"],
    "backup_locations": lambda item: item["name"],
    "users": lambda item: item["username"],
    "api_tokens": lambda item: item["token_hash"],
    "trusted_devices": lambda item: item["token_hash"],
    "recovery_codes": lambda item: (item["username"], item["code_hash"]),
}
#: Fields that refer to items of another section: field -> the section referred to.
REFERENCES = {
    "cameras": {"storage_profile_id": "storage_profiles"},
    "users": {"allowed_camera_ids": "cameras", "allowed_group_ids": "groups"},
}
NAMED = ("storage_profiles", "cameras", "groups")  # sections referred to, shown by name
LOCATION_CREDENTIALS = ("username", "password", "private_key", "access_key_id", "secret_access_key")
LOCATION_PINS = {"host_key": "pinned host key", "tls_fingerprint": "pinned TLS fingerprint"}
LOCATION_PLACE = ("host", "url", "endpoint_url", "bucket")


def diff_documents(old, new):
    """What changes from configuration ``old`` to configuration ``new`` (both validated documents)."""
    matches = {section: _match(section, old[section], new[section]) for section in SECTIONS[1:]}
    context = _Context(old, new, matches)
    sections = {"settings": _settings(old["settings"], new["settings"])}
    for section in SECTIONS[1:]:
        if section == "associations":
            sections[section] = _associations(old[section], new[section], context)
        else:
            sections[section] = _items(section, matches[section], context)
    security = _security(matches, context)
    identical = not any(part["added"] or part["removed"] or part["changed"] for part in sections.values())
    return {"identical": identical, "security": security, "sections": sections}


class _Match:
    """One section's items paired: ``pairs`` [(old index, old, new index, new)], ``added`` and ``removed``
    [(index, item)], and ``to_old`` {new id: old id} of the pairs."""

    def __init__(self, pairs, added, removed):
        self.pairs, self.added, self.removed = pairs, added, removed
        self.to_old = {n["id"]: o["id"] for _, o, _, n in pairs}


def _match(section, old_items, new_items):
    if section == "associations":
        return None
    key = NATURAL.get(section)
    old_at = {item["id"]: (index, item) for index, item in enumerate(old_items)}
    old_by_key = {key(item): item["id"] for item in old_items} if key else {}
    pairs, pending, taken = [], [], set()
    for index, item in enumerate(new_items):
        found = old_at.get(item["id"])
        if found is None:
            pending.append((index, item))
        else:
            pairs.append((found[0], found[1], index, item))
            taken.add(item["id"])
    added = []
    for index, item in pending:
        old_id = old_by_key.get(key(item)) if key else None
        if old_id is None or old_id in taken:
            added.append((index, item))
        else:
            taken.add(old_id)
            pairs.append((*old_at[old_id], index, item))
    pairs.sort(key=lambda pair: pair[2])
    removed = [(index, item) for index, item in enumerate(old_items) if item["id"] not in taken]
    return _Match(pairs, added, removed)


class _Context:
    """Names of the referred-to items in each document, and the translation of new ids to old ones."""

    def __init__(self, old, new, matches):
        self.old_names = {s: {item["id"]: item["name"] for item in old[s]} for s in NAMED}
        self.new_names = {s: {item["id"]: item["name"] for item in new[s]} for s in NAMED}
        self.to_old = {s: matches[s].to_old for s in NAMED}

    def translated(self, section, new_id):
        """The old id of the item ``new_id`` is in the new document; a marker no old id equals when none."""
        return self.to_old[section].get(new_id, ("new", new_id))


# --- settings -------------------------------------------------------------------------------------


def _settings(old, new):
    part = {"added": [], "removed": [], "changed": [], "unchanged": 0}
    for key, value in new.items():
        if key not in old:
            part["added"].append(f"settings.{key}")
        elif old[key] == value:
            part["unchanged"] += 1
        else:
            fields = _extra(old[key], value) if key == "extra" else [_field(key, old[key], value)]
            part["changed"].append({"item": f"settings.{key}", "fields": fields})
    part["removed"] = [f"settings.{key}" for key in old if key not in new]
    return part


# --- items ----------------------------------------------------------------------------------------


def _items(section, match, context):
    changed, unchanged = [], 0
    for _, old, index, new in match.pairs:
        fields = _fields(section, old, new, context)
        if fields:
            changed.append({"item": label(section, index, new), "fields": fields})
        else:
            unchanged += 1
    return {
        "added": [label(section, index, item) for index, item in match.added],
        "removed": [label(section, index, item) for index, item in match.removed],
        "changed": changed,
        "unchanged": unchanged,
    }


def _fields(section, old, new, context):
    """The fields that differ between two matched items (the id aside), in the item's field order."""
    if old == new:
        return []
    references = REFERENCES.get(section, {})
    fields = []
    for field in {**old, **new}:
        if field == "id":
            continue
        before, after = old.get(field), new.get(field)
        if field in references:
            fields.extend(_reference(field, references[field], before, after, context))
        elif before == after:
            continue
        elif field in POLYGONS:
            fields.append({"field": field, "summary": _polygons(before or [], after or [])})
        elif field == "schedule":
            fields.extend({"field": field, "summary": line} for line in _schedule(before or {}, after or {}))
        elif field == "extra":
            fields.extend(_extra(before or {}, after or {}))
        else:
            fields.append(_field(field, before, after))
    return fields


def _field(field, before, after):
    """``{"field", "old", "new"}``; ``{"field", "summary": "changed"}`` where the values are secret."""
    if field in SECRETS:
        return {"field": field, "summary": "changed"}
    if field in URLS:
        shown_before, shown_after = mask_url(before), mask_url(after)
        if shown_before == shown_after:  # only the password differs
            return {"field": field, "summary": "changed (the password)"}
        return {"field": field, "old": shown_before, "new": shown_after}
    return {"field": field, "old": before, "new": after}


def _extra(before, after):
    """The keys of an ``extra`` object that differ: secret-named ones as changed, URLs masked."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    fields = []
    for key in {**before, **after}:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = f"extra.{key}"
        if is_secret_name(key):
            fields.append({"field": name, "summary": "changed"})
        elif isinstance(old, str | None) and isinstance(new, str | None) and mask_url(old) == mask_url(new):
            fields.append({"field": name, "summary": "changed (the password)"})
        else:
            fields.append({"field": name, "old": _masked(old), "new": _masked(new)})
    return fields


def _masked(value):
    return mask_url(value) if isinstance(value, str) else value


def _reference(field, target, before, after, context):
    """A reference compared through the matching of ``target``, shown by the names of the items."""
    old_names, new_names = context.old_names[target], context.new_names[target]
    if isinstance(before, list) or isinstance(after, list):
        before, after = before or [], after or []
        if {context.translated(target, i) for i in after} == set(before):
            return []
        return [
            {"field": field, "old": [old_names.get(i, i) for i in before], "new": [new_names.get(i, i) for i in after]}
        ]
    if (None if after is None else context.translated(target, after)) == before:
        return []
    return [{"field": field, "old": old_names.get(before, before), "new": new_names.get(after, after)}]


def _polygons(before, after):
    """``"2 → 3 polygons"``, or for as many polygons ``"2 polygons, 1 changed"``."""
    if len(before) != len(after):
        return f"{len(before)} → {len(after)} polygon{'' if len(after) == 1 else 's'}"
    moved = sum(1 for a, b in zip(before, after, strict=True) if a != b)
    return f"{len(after)} polygon{'' if len(after) == 1 else 's'}, {moved} changed"


def _schedule(before, after):
    """One line per weekday that differs: ``"monday: 08:00–12:00 → 08:00–13:00"`` (a weekday left out of a
    schedule is all day, an empty one never)."""
    lines = []
    for day in WEEKDAYS:
        old, new = before.get(day), after.get(day)
        if old != new:
            lines.append(f"{day}: {_windows(old)} → {_windows(new)}")
    return lines


def _windows(windows):
    if windows is None:
        return "all day"
    if not windows:
        return "never"
    return ", ".join(f"{start}–{end}" for start, end in windows)


# --- associations ---------------------------------------------------------------------------------


def _associations(old_links, new_links, context):
    """Links compared as (camera, group) through the matching of cameras and groups."""
    old_pairs = {(link["camera_id"], link["group_id"]) for link in old_links}
    seen, added = set(), []
    for index, link in enumerate(new_links):
        pair = (context.translated("cameras", link["camera_id"]), context.translated("groups", link["group_id"]))
        seen.add(pair)
        if pair not in old_pairs:
            added.append(_link_label(index, link, context.new_names))
    removed = [
        _link_label(index, link, context.old_names)
        for index, link in enumerate(old_links)
        if (link["camera_id"], link["group_id"]) not in seen
    ]
    return {"added": added, "removed": removed, "changed": [], "unchanged": len(new_links) - len(added)}


def _link_label(index, link, names):
    camera = names["cameras"].get(link["camera_id"], link["camera_id"])
    group = names["groups"].get(link["group_id"], link["group_id"])
    return f'associations[{index}] (camera "{camera}", group "{group}")'


# --- the security summary -------------------------------------------------------------------------


def _security(matches, context):
    """Sentences about what changes who can sign in, what they may see, and where backups go."""
    lines = []
    users = matches["users"]
    lines += [f'admin "{u["username"]}" added' for _, u in users.added if u["role"] == "admin"]
    lines += [f'admin "{u["username"]}" removed' for _, u in users.removed if u["role"] == "admin"]
    for _, old, _, new in users.pairs:
        if old != new:
            lines += _user_changes(old, new, context)
    tokens = matches["api_tokens"]
    lines += [f'API token "{t["name"]}" of "{t["username"]}" added' for _, t in tokens.added]
    lines += [f'API token "{t["name"]}" of "{t["username"]}" removed' for _, t in tokens.removed]
    for _, old, _, new in tokens.pairs:
        if new["is_active"] and not old["is_active"]:
            lines.append(f'API token "{new["name"]}" of "{new["username"]}" made active again')
        if new["username"] != old["username"]:
            lines.append(f'API token "{new["name"]}" now acts as "{new["username"]}" (was "{old["username"]}")')
    codes = {}  # a code under an id the other file has, with another hash, is a new code too
    for code in _new_secrets(matches["recovery_codes"], "code_hash"):
        codes[code["username"]] = codes.get(code["username"], 0) + 1
    lines += [f'user "{u}": {n} new recovery code{"" if n == 1 else "s"}' for u, n in codes.items()]
    lines += [
        f'user "{d["username"]}": new trusted device "{d["name"]}" (signs in without 2FA)'
        for d in _new_secrets(matches["trusted_devices"], "token_hash")
    ]
    recipients = matches["backup_recipients"]
    lines += [
        f'backup recipient "{r["name"]}" added: encrypted backups can be opened with its key'
        for _, r in recipients.added
    ]
    lines += [f'backup recipient "{r["name"]}" removed' for _, r in recipients.removed]
    lines += [
        f'backup recipient "{new["name"]}": the key changed'
        for _, old, _, new in recipients.pairs
        if old["recipient"] != new["recipient"]
    ]
    locations = matches["backup_locations"]
    lines += [f'backup location "{loc["name"]}" ({loc["kind"]}) added' for _, loc in locations.added]
    lines += [f'backup location "{loc["name"]}" removed' for _, loc in locations.removed]
    for _, old, _, new in locations.pairs:
        if old != new:
            lines += _location_changes(old, new)
    return lines


def _new_secrets(match, field):
    """The items added, and the matched ones whose secret ``field`` differs (another code, another token)."""
    return [item for _, item in match.added] + [new for _, old, _, new in match.pairs if old[field] != new[field]]


def _user_changes(old, new, context):
    who = f'user "{new["username"]}"'
    lines = []
    if old["role"] != new["role"]:
        lines.append(f"{who}: role {old['role']} → {new['role']}")
    if not old["is_active"] and new["is_active"]:
        lines.append(f"{who}: account enabled")
    if old["hashed_password"] != new["hashed_password"]:
        lines.append(f"{who}: password changed")
    if old["is_2fa_enabled"] != new["is_2fa_enabled"]:
        lines.append(f"{who}: two-factor sign-in turned {'on' if new['is_2fa_enabled'] else 'off'}")
    elif new["is_2fa_enabled"] and old["totp_secret"] != new["totp_secret"]:
        lines.append(f"{who}: two-factor secret changed")
    if old["restrict_camera_access"] and not new["restrict_camera_access"]:
        lines.append(f"{who}: camera access widened: no longer restricted, sees every camera")
    elif new["restrict_camera_access"]:
        for field, target, what in (
            ("allowed_camera_ids", "cameras", "cameras"),
            ("allowed_group_ids", "groups", "groups"),
        ):
            had = set(old[field])
            gained = [i for i in new[field] if context.translated(target, i) not in had]
            if gained:
                names = ", ".join(f'"{context.new_names[target].get(i, i)}"' for i in gained)
                lines.append(f"{who}: camera access widened: may now also see {what} {names}")
    return lines


def _location_changes(old, new):
    where = f'backup location "{new["name"]}"'
    lines = []
    credentials = [field for field in LOCATION_CREDENTIALS if old[field] != new[field]]
    if credentials:
        lines.append(f"{where}: credentials changed ({', '.join(credentials)})")
    lines += [f"{where}: {what} changed" for field, what in LOCATION_PINS.items() if old[field] != new[field]]
    if any(old[field] != new[field] for field in LOCATION_PLACE):
        lines.append(f"{where}: destination changed")
    if new["enabled"] and not old["enabled"]:
        lines.append(f"{where}: turned on")
    return lines
