"""Helpers shared by the resource pages: fragment-or-page rendering, redirects, and inline form errors.

The contact-app pattern: a page template includes its fragment; htmx gets the fragment, a browser
without JavaScript gets the page, and every such response says ``Vary: HX-Request``.
"""

import re

from flask import abort, flash, make_response, redirect, render_template, url_for

from .http import BadRequest, is_htmx, parse_json
from .validation import ConflictError, ValidationError

WEEKDAY_LABELS = {
    "monday": "Monday",
    "tuesday": "Tuesday",
    "wednesday": "Wednesday",
    "thursday": "Thursday",
    "friday": "Friday",
    "saturday": "Saturday",
    "sunday": "Sunday",
}


def render(page, fragment, status=200, **context):
    """The fragment for htmx, the whole page otherwise."""
    response = make_response(render_template(fragment if is_htmx() else page, **context), status)
    response.vary.add("HX-Request")
    return response


def get_or_404(model, item_id, label):
    """The row ``item_id`` of ``model``, or a 404 saying which ``label`` is missing."""
    item = model.get_or_none(model.id == item_id)
    if item is None:
        abort(404, description=f"{label} {item_id} does not exist; it may have been deleted.")
    return item


def message_oob(category, text):
    """A message swapped into ``#messages`` alongside an htmx answer (and focused by pages.js)."""
    return render_template("_message_oob.html", category=category, text=text)


def done(message, endpoint, **values):
    """After a successful write: flash ``message`` and go to ``endpoint`` (HX-Redirect for htmx)."""
    flash(message, "success")
    target = url_for(endpoint, **values)
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def after_delete(message, endpoint, fragment, context):
    """htmx: the refreshed list fragment plus the message; otherwise flash and go back to the list.

    ``context`` is a callable so the list is only built when it is shown.
    """
    if is_htmx():
        body = render_template(fragment, **context()) + message_oob("success", message)
        response = make_response(body, 200)
        response.vary.add("HX-Request")
        return response
    flash(message, "success")
    return redirect(url_for(endpoint), code=303)


# --- inline errors ----------------------------------------------------------------------------

_KEY_REST = r"(?P<key>[a-z][a-z0-9_]*)(?P<rest>(?:\.[a-z]+)?(?:\[\d+\])*)"
_PATH = re.compile(rf"^{_KEY_REST}:?(?=\s|$)")
_FIELD = re.compile(_KEY_REST)


class FormErrors(dict):
    """{field key: [messages]} built from ValidationError/ConflictError (``rtsp_url`` → "must …")."""

    def add(self, key, message):
        self.setdefault(key, []).append(message)

    def add_exception(self, exc):
        """Every problem of ``exc``: by its structured field when it has one, else by parsing its text."""
        if not isinstance(exc, ValidationError):
            self.add_error(str(exc))
            return
        for (field, message), text in zip(exc.field_errors, exc.errors, strict=True):
            match = _FIELD.fullmatch(field) if field else None
            if match:
                self._add_path(match.group("key"), match.group("rest"), message, text)
            else:
                self.add_error(text)

    def add_error(self, text):
        """One problem given as text ("rtsp_url must …"): the field is read from its start."""
        match = _PATH.match(text)
        if not match:
            self.add("_form", text)
            return
        self._add_path(match.group("key"), match.group("rest"), text[match.end() :].strip(), text)

    def _add_path(self, key, rest, message, text):
        if key == "schedule":
            day = rest[1:].split("[")[0] if rest.startswith(".") else ""
            message = humanize(text, key) if rest else message
            self.add(f"schedule.{day}" if day in WEEKDAY_LABELS else "schedule", message)
            return
        self.add(key, humanize(text[len(key) :], key).strip() if rest else message)

    def first(self, key):
        """All messages for ``key`` as one line, or None."""
        return "; ".join(self[key]) if key in self else None

    @classmethod
    def from_exception(cls, exc):
        errors = cls()
        errors.add_exception(exc)
        return errors


def humanize(text, key=""):
    """Readable paths: ``[0][1]`` → "polygon 1, point 2", ``schedule.monday[0]`` → "Monday window 1"."""

    def schedule_path(match):
        return f"{WEEKDAY_LABELS.get(match.group(1), match.group(1))} window {int(match.group(2)) + 1}"

    def number(match, group=1):
        return int(match.group(group)) + 1

    text = re.sub(r"schedule\.([a-z]+)\[(\d+)\]", schedule_path, text)
    text = re.sub(r"schedule\.([a-z]+)", lambda m: WEEKDAY_LABELS.get(m.group(1), m.group(1)), text)
    text = re.sub(r"window (\d+) (\d\d:\d\d–\d\d:\d\d)", r"window \1 (\2)", text)
    noun = "polygon" if key in ("privacy_masks", "motion_zones") else "item"
    text = re.sub(r"^\[(\d+)\]\[(\d+)\]", lambda m: f"{noun} {number(m)}, point {number(m, 2)}", text)
    return re.sub(r"^\[(\d+)\]", lambda m: f"{noun} {number(m)}", text)


def sentence(text):
    """An engine message as a sentence: capital first letter, full stop at the end."""
    text = text.strip()
    if not text:
        return ""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def status_for(exc):
    return 409 if isinstance(exc, ConflictError) else getattr(exc, "status", 422)


# --- form values ------------------------------------------------------------------------------


def form_int(value):
    """A whole number from a form string; anything else is passed on for the validator to name."""
    text = (value or "").strip()
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    return text


def form_number(value):
    text = (value or "").strip()
    if re.fullmatch(r"[+-]?(\d{1,18}(\.\d*)?|\.\d+)", text):
        return float(text)
    return text


def form_bool(form, name):
    """A checkbox after its hidden "off" twin: the last value wins."""
    values = form.getlist(name)
    return bool(values) and values[-1] == "on"


def form_ids(form, name):
    return [form_int(v) for v in form.getlist(name) if v.strip()]


def form_json(form, name, errors, empty):
    """A JSON textarea; ``empty`` when blank; a parse problem is recorded under ``name``."""
    text = form.get(name, "")
    if not text.strip():
        return empty
    try:
        return parse_json(text, what="the text")
    except BadRequest as exc:
        errors.add(name, str(exc))
    except ValidationError as exc:  # NaN, infinity, a lone surrogate: named by where it is in the text
        errors.add(name, "; ".join(exc.errors))
    return None
