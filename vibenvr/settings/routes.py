"""Settings > Global Settings (admins only): every group of the registry; saving swaps the form in place."""

import json
import zoneinfo

from flask import Blueprint, current_app, flash, redirect, request, url_for
from markupsafe import Markup

from ..auth.decorators import admin_required
from ..http import is_htmx
from ..pages import FormErrors, message_oob, render
from ..validation import ValidationError
from . import forms
from .registry import PRESETS, SETTINGS
from .service import get_settings, update_settings

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _page(values, errors=None, status=200, extra=""):
    stored = get_settings()
    context = {
        "sections": forms.sections(),
        "values": values,
        "has_secret": {key: bool(stored.get(key)) for key, d in SETTINGS.items() if d.is_secret},
        "errors": errors or FormErrors(),
        "preset_attrs": Markup('data-preset-select data-presets="{}"').format(json.dumps(PRESETS)),
        "choices": {key: forms.choice_options(d) for key, d in SETTINGS.items() if d.type == "choice"},
        "backup_dir": str(current_app.config["BACKUP_DIR"]),
        "timezones": sorted(zoneinfo.available_timezones()),
    }
    response = render("settings/global.html", "settings/_global_form.html", status, **context)
    if extra:
        response.set_data(response.get_data(as_text=True) + extra)
    return response


@bp.route("/global", methods=["GET", "POST"])
@admin_required
def global_page():
    current = get_settings()
    if request.method == "GET":
        return _page(forms.shown_values(current))
    changes = forms.parse_form(request.form, current)
    try:
        changed = update_settings(changes, from_form=True)
    except ValidationError as exc:
        return _page(forms.shown_values(current, changes), FormErrors.from_exception(exc), exc.status)
    message = f"Settings saved ({len(changed)} changed)." if changed else "Nothing to save: no value changed."
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("settings.global_page"), code=303)
    return _page(forms.shown_values(get_settings()), extra=message_oob("success", message))
