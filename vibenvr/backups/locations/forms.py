"""The Locations panel of System Backups (SPEC §14): the add/edit form and what each row of the list shows.

The form holds a fieldset per kind, all sent by a browser without JavaScript, so its fields are named
``<kind>-<field>`` (``sftp-path``, ``folder-path``) and only the chosen kind's are read. Secrets are never
shown: blank keeps the stored one (``<field>_clear`` removes it), and they are not kept after an error.
"""

import datetime as dt
from urllib.parse import urlsplit

from ...pages import FormErrors, form_bool, form_int, sentence
from ...settings.service import get_setting
from ..overview import KIND_LABELS as BACKUP_LABELS
from . import copies
from .schema import BACKUP_KINDS, KIND_FIELDS, KINDS, SECRETS
from .service import list_locations

KIND_LABELS = {"folder": "Folder", "sftp": "SFTP", "webdav": "WebDAV", "s3": "S3"}
KIND_BADGES = {"folder": "badge-grey", "sftp": "badge-blue", "webdav": "badge-purple", "s3": "badge-amber"}
KIND_HELP = {
    "folder": "A folder on this server, typically a NAS or a USB disk mounted there.",
    "sftp": "A folder on another machine over SSH (OpenSSH, a NAS with SFTP on).",
    "webdav": "A WebDAV folder: Nextcloud, ownCloud, a NAS's WebDAV share.",
    "s3": "A bucket of Amazon S3 or any S3-compatible store (MinIO, Backblaze B2, Wasabi, Garage).",
}

#: Per kind: (field, label, input, help). ``input`` is text, number, secret or key (a multi-line secret).
TLS_PIN_FIELD = (
    "tls_fingerprint",
    "TLS certificate fingerprint",
    "text",
    "Optional, for a self-signed certificate: its SHA-256 fingerprint (64 hexadecimal digits).",
)

FIELDSETS = {
    "folder": [
        (
            "path",
            "Folder",
            "text",
            "An absolute path, such as /mnt/nas/vibenvr. It must exist: when the NAS is not "
            "mounted, copies fail (and are retried) rather than fill this server's own disk.",
        ),
    ],
    "sftp": [
        ("host", "Host", "text", "A host name or an IP address, without sftp:// or a port."),
        ("port", "Port", "number", ""),
        ("username", "User", "text", ""),
        ("path", "Folder on the server", "text", "Where the copies go, such as /srv/backups/vibenvr."),
        ("password", "Password", "secret", "A password or a private key: one of them is needed."),
        (
            "private_key",
            "Private key",
            "key",
            "Instead of a password: an OpenSSH private key without a passphrase "
            "(-----BEGIN OPENSSH PRIVATE KEY----- …).",
        ),
        (
            "host_key",
            "Host key",
            "text",
            "Pinned at the first connection (Test connection does it) and checked at "
            "every later one. Empty it to accept the key the server shows next.",
        ),
    ],
    "webdav": [
        (
            "url",
            "Folder URL",
            "text",
            "http:// or https://, such as https://cloud.example.com/remote.php/dav/files/nvr/backups.",
        ),
        ("username", "User", "text", ""),
        ("password", "Password", "secret", ""),
        TLS_PIN_FIELD,
    ],
    "s3": [
        (
            "endpoint_url",
            "Endpoint URL",
            "text",
            "Empty for Amazon S3; for another store its address, such as http://minio.local:9000.",
        ),
        ("region", "Region", "text", "Such as eu-central-1; empty when the store needs none."),
        ("bucket", "Bucket", "text", ""),
        ("prefix", "Prefix", "text", "A folder inside the bucket, such as vibenvr/; empty for the top."),
        ("access_key_id", "Access key ID", "text", ""),
        ("secret_access_key", "Secret access key", "secret", ""),
        TLS_PIN_FIELD,
    ],
}


class LocationForm:
    """What the form shows: ``values`` by form name, ``errors`` by field, which secrets are stored."""

    def __init__(self, values, errors=None, stored_secrets=()):
        self.values = values
        self.errors = errors if errors is not None else FormErrors()
        self.stored_secrets = set(stored_secrets)  # of the kind in ``values``

    def value(self, kind, field):
        return self.values.get(f"{kind}-{field}", "")

    def stored(self, kind, field):
        """Whether the location holds a value for this secret (never the value itself)."""
        return kind == self.values.get("kind") and field in self.stored_secrets

    def error(self, kind, field):
        """A field's error, shown in the fieldset of the kind that was chosen only."""
        return self.errors.first(field) if kind == self.values.get("kind") else None

    @classmethod
    def blank(cls):
        values = {"name": "", "kind": "folder", "enabled": True, "receives": ["auto", "manual"], "retention": ""}
        values["sftp-port"] = 22
        return cls(values)

    @classmethod
    def for_row(cls, row):
        values = {
            "name": row.name,
            "kind": row.kind,
            "enabled": row.enabled,
            "receives": list(row.receives or []),
            "retention": "" if row.retention is None else row.retention,
            "sftp-port": 22,
        }
        for field in KIND_FIELDS.get(row.kind, ()):
            if field not in SECRETS:
                values[f"{row.kind}-{field}"] = getattr(row, field)
        return cls(values, stored_secrets=[f for f in SECRETS if getattr(row, f)])


def parse_form(form, row=None):
    """``(body, LocationForm)``: the body for ``create_location`` / ``update_location`` from the chosen
    kind's fieldset, and the form to show again (what was typed in every fieldset, secrets left out)."""
    kind = form.get("kind", "")
    retention = form.get("retention", "").strip()
    body = {
        "name": form.get("name", ""),
        "kind": kind,
        "enabled": form_bool(form, "enabled"),
        "receives": form.getlist("receives"),
        "retention": form_int(retention) if retention else None,
    }
    same_kind = row is not None and row.kind == kind
    for field in KIND_FIELDS.get(kind, ()):
        given = form.get(f"{kind}-{field}", "")
        if field in SECRETS:
            if form_bool(form, f"{kind}-{field}_clear"):
                body[field] = ""
            elif given:
                body[field] = given
            elif row is not None and not same_kind:
                body[field] = ""  # another kind: the old kind's credentials are not this one's
        elif field == "port":
            if given.strip():
                body[field] = form_int(given)
        else:
            body[field] = given
    values = {key: body[key] for key in ("name", "kind", "enabled", "receives")}
    values["retention"] = retention
    for each, fields in KIND_FIELDS.items():
        for field in fields:
            if field not in SECRETS:
                values[f"{each}-{field}"] = form.get(f"{each}-{field}", "")
    stored = [f for f in SECRETS if row is not None and same_kind and getattr(row, f)]
    return body, LocationForm(values, stored_secrets=stored)


def form_errors(exc):
    """The service's refusal as errors by field, worded for the form."""
    errors = FormErrors.from_exception(exc)
    if any(m.startswith("or private_key") for m in errors.get("password", [])):
        errors["password"] = ["is required, or a private key: an SFTP location signs in with one of them"]
    return errors


# --- the list --------------------------------------------------------------------------------------


def where(row):
    """Where a location writes, in one line, without any credential."""
    if row.kind == "sftp":
        port = f":{row.port}" if row.port and row.port != 22 else ""
        user = f"{row.username}@" if row.username else ""
        return f"sftp://{user}{row.host}{port}/{row.path.lstrip('/')}"
    if row.kind == "webdav":
        return row.url
    if row.kind == "s3":
        place = f"s3://{row.bucket}/{row.prefix}"
        return f"{place} at {urlsplit(row.endpoint_url).netloc}" if row.endpoint_url else place
    return row.path


def naive_utc(value):
    """A time a location gave (aware or naive UTC) as naive UTC, as the page's ``local_time`` expects."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def rows():
    """Each location with where it writes and the state of its copies (``copies.status``), by name."""
    states = {state["id"]: state for state in copies.status()}
    local_keep = get_setting("backup_auto_retention")
    return [
        {
            "row": row,
            "where": where(row),
            "status": states.get(row.id, {}),
            "failure": sentence(states.get(row.id, {}).get("last_failure") or ""),
            "keep": row.retention or local_keep,
            "keep_is_local": row.retention is None,
        }
        for row in list_locations()
    ]


def kinds():
    """(kind, label) for the select, every kind (a kind missing from this build says so when used)."""
    return [(kind, KIND_LABELS[kind]) for kind in KINDS]


def panel(form=None, results=None):
    """The template context of the Locations panel: its rows, the add form, and any test results to show."""
    return {
        "locations": rows(),
        "location_form": form or LocationForm.blank(),
        "location_kinds": kinds(),
        "location_labels": KIND_LABELS,
        "location_badges": KIND_BADGES,
        "location_fieldsets": FIELDSETS,
        "location_kind_help": KIND_HELP,
        "receivable": BACKUP_KINDS,
        "receive_labels": BACKUP_LABELS,
        "local_retention": get_setting("backup_auto_retention"),
        "test_results": results or {},
    }
