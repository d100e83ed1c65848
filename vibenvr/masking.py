"""Secrets are write-only (SPEC §12): what answers and pages show of credentials, and how a masked value
written back keeps the stored one. One convention everywhere:

- a password-like value (``onvif_password``, secret settings) is answered as ``null`` with ``<field>_set``
  (true or false) beside it; in a write ``null`` or leaving the field out keeps it, ``""`` clears it;
- a URL keeps its shape with the password replaced by ``***`` (``rtsp://user:***@host/…``), and for viewers
  the user too (``rtsp://***@host/…``); password-like query parameters (``?pwd=…``) likewise. Writing a URL
  back whose password (or user) is still ``***`` keeps the stored one, whatever else changed;
- for viewers, ``onvif_username`` is ``null`` too; in a camera's ``extra``, top-level keys named like
  secrets are ``null`` and URLs in it are masked, and written back the same way.

Only backups and ``/api/config/export`` carry the plain values, and ``?include_secrets=true`` for admins.
"""

import re
from urllib.parse import unquote

from flask import abort, request
from flask_login import current_user

from .validation import FieldError, ValidationError

MASK = "***"
URL_FIELDS = ("rtsp_url", "sub_rtsp_url")
PASSWORD_PARAMS = {
    "password",
    "pass",
    "passwd",
    "pwd",
    "psw",
    "pw",
    "loginpas",
    "token",
    "auth",
    "key",
    "apikey",
    "api_key",
    "secret",
}
USER_PARAMS = {"user", "username", "usr", "login", "loginuse"}  # hidden from viewers only
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|credential|api_?key", re.IGNORECASE)


# --- URLs -------------------------------------------------------------------------------------------


def _parts(url):
    """``(head, userinfo or None, host, tail)`` as urlsplit cuts them (userinfo ends at the last @ of the
    netloc), or None for text that is not ``scheme://…``."""
    if not isinstance(url, str) or "://" not in url:
        return None
    start = url.index("://") + 3
    ends = [i for i in (url.find(c, start) for c in "/?#") if i != -1]
    end = min(ends) if ends else len(url)
    netloc = url[start:end]
    userinfo, at, host = netloc.rpartition("@")
    return url[:start], (userinfo if at else None), host, url[end:]


def _query_items(tail):
    """``(before "?", [[name, value or None], …], "#fragment")`` of the part after the host."""
    path, question, rest = tail.partition("?")
    if not question:
        return tail, None, ""
    query, hashmark, fragment = rest.partition("#")
    items = [list(p.partition("=")[::2]) if "=" in p else [p, None] for p in query.split("&")]
    return path, items, hashmark + fragment


def _join(head, userinfo, host, path, items, fragment):
    netloc = host if userinfo is None else f"{userinfo}@{host}"
    query = "" if items is None else "?" + "&".join(n if v is None else f"{n}={v}" for n, v in items)
    return f"{head}{netloc}{path}{query}{fragment}"


def _param(name):
    return unquote(name).lower()


def mask_url(url, viewer=False):
    """``url`` with its password shown as ``***``; for a viewer every credential, the user included."""
    parts = _parts(url)
    if parts is None:
        return url
    head, userinfo, host, tail = parts
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if viewer:
            userinfo = MASK
        elif password:
            userinfo = f"{user}{colon}{MASK}"
    path, items, fragment = _query_items(tail)
    hidden = PASSWORD_PARAMS | (USER_PARAMS if viewer else set())
    for item in items or ():
        if item[1] and _param(item[0]) in hidden:
            item[1] = MASK
    return _join(head, userinfo, host, path, items, fragment)


def _cannot_keep(field, what):
    return FieldError(
        field,
        f"holds {MASK} as its {what}, but there is no stored {what} to keep: type it "
        f"(percent-encoded), or write %2A%2A%2A for a literal {MASK}",
    )


def unmask_url(url, stored, field):
    """``url`` as written, with each ``***`` credential (user, password, password-like query parameter)
    taken from ``stored``; FieldError when ``stored`` has none to give."""
    parts = _parts(url)
    if parts is None or MASK not in url:
        return url
    head, userinfo, host, tail = parts
    old = _parts(stored) or ("", None, "", "")
    if userinfo and MASK in userinfo:
        user, colon, password = userinfo.partition(":")
        old_user, old_colon, old_password = (old[1] or "").partition(":")
        if user == MASK:
            if old[1] is None:
                raise _cannot_keep(field, "user")
            user = old_user
            if not colon:  # the viewer's form, rtsp://***@host: the whole of the stored credentials
                colon, password = old_colon, old_password
        if colon and password == MASK:
            if not old_password:
                raise _cannot_keep(field, "password")
            password = old_password
        userinfo = f"{user}{colon}{password}"
    path, items, fragment = _query_items(tail)
    if items:
        stored_items = _query_items(old[3])[1] or []
        for item in items:
            if item[1] == MASK and _param(item[0]) in PASSWORD_PARAMS | USER_PARAMS:
                value = next((v for n, v in stored_items if _param(n) == _param(item[0]) and v), None)
                if value is None:
                    raise _cannot_keep(field, f"{unquote(item[0])}= value")
                item[1] = value
    return _join(head, userinfo, host, path, items, fragment)


def is_secret_name(key):
    """Whether a free-form key (in a camera's ``extra``) is named like a secret: its value is never shown."""
    return bool(_SECRET_NAME.search(key))


# --- cameras ----------------------------------------------------------------------------------------


def _mask_extra(extra, viewer):
    if not isinstance(extra, dict):
        return extra
    return {
        key: None if value and _SECRET_NAME.search(key) else mask_url(value, viewer) for key, value in extra.items()
    }


def _keep_extra(extra, stored):
    if not isinstance(extra, dict) or not isinstance(stored, dict):
        return extra
    kept = {}
    for key, value in extra.items():
        old = stored.get(key)
        if value is None and old and _SECRET_NAME.search(key):
            value = old
        elif isinstance(value, str):
            value = unmask_url(value, old if isinstance(old, str) else "", f"extra.{key}")
        kept[key] = value
    return kept


def camera_answer(data, viewer, include_secrets=False):
    """A camera dict (API vocabulary) as an answer or a page may show it."""
    data = dict(data)
    data["onvif_password_set"] = bool(data.get("onvif_password"))
    if include_secrets:
        return data
    data["onvif_password"] = None
    for field in URL_FIELDS:
        data[field] = mask_url(data.get(field), viewer)
    if viewer:
        data["onvif_username"] = None
    if "extra" in data:
        data["extra"] = _mask_extra(data["extra"], viewer)
    return data


def camera_write(body):
    """An API body with what an answer added taken out: ``onvif_password_set`` (read-only) and a ``null``
    ``onvif_password`` (which keeps the stored one)."""
    if not isinstance(body, dict):
        return body
    body = {k: v for k, v in body.items() if k != "onvif_password_set"}
    if "onvif_password" in body and body["onvif_password"] is None:
        del body["onvif_password"]
    return body


def keep_stored_camera_secrets(clean, camera):
    """Validated camera fields with every ``***`` put back from the stored ``camera`` (None: a new camera,
    which has nothing to keep). ValidationError naming each ``***`` there is nothing to keep for."""
    errors = []
    for field in URL_FIELDS:
        if isinstance(clean.get(field), str):
            try:
                clean[field] = unmask_url(clean[field], getattr(camera, field, "") or "", field)
            except FieldError as exc:
                errors.append(exc)
    if "extra" in clean:
        try:
            clean["extra"] = _keep_extra(clean["extra"], (camera.extra if camera is not None else None) or {})
        except FieldError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return clean


# --- settings ---------------------------------------------------------------------------------------


def settings_answer(values, definitions, include_secrets=False):
    """Settings as the API answers them: each secret ``null`` with ``<key>_set``; URLs masked."""
    shown = dict(values)
    for key, definition in definitions.items():
        if definition.is_secret:
            shown[f"{key}_set"] = bool(values.get(key))
            if not include_secrets:
                shown[key] = None
        elif definition.masked_url and not include_secrets:
            shown[key] = mask_url(values.get(key))
    return shown


def settings_write(body, definitions):
    """A PATCH body with the ``<secret>_set`` markers and ``null`` secrets (both: keep) taken out."""
    if not isinstance(body, dict):
        return body
    markers = {f"{key}_set" for key, d in definitions.items() if d.is_secret}
    return {
        k: v
        for k, v in body.items()
        if k not in markers and not (v is None and k in definitions and definitions[k].is_secret)
    }


def keep_stored_settings(clean, current, definitions):
    """Validated settings with a masked URL's ``***`` put back from the stored value (ValidationError when
    there is none to keep)."""
    errors = []
    for key, value in clean.items():
        definition = definitions.get(key)
        if definition is not None and definition.masked_url and isinstance(value, str):
            try:
                clean[key] = unmask_url(value, current.get(key) or "", key)
            except FieldError as exc:
                errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return clean


# --- the request ------------------------------------------------------------------------------------


def include_secrets_requested():
    """``?include_secrets=true``: plain values, for admins only (403 for a viewer; 400 for another word)."""
    value = request.args.get("include_secrets")
    if not current_user.is_authenticated or value is None or value.strip().lower() in ("", "false", "0"):
        return False
    if value.strip().lower() not in ("true", "1"):
        abort(400, description=f"include_secrets must be true or false, not {value[:40]!r}")
    if not current_user.is_admin:
        abort(403)
    return True


def for_viewer():
    return not current_user.is_admin
