"""One JSON CRUD blueprint shape for every resource: list, create, read, update, delete."""

from flask import Blueprint, abort, jsonify
from flask_login import current_user

from .auth.decorators import admin_required, login_required
from .http import json_body


def crud_blueprint(
    name, url_prefix, model, *, to_dict, list_items, create, update, delete, viewer_can_read=False, visible_ids=None
):
    """Build the API blueprint for ``model``.

    ``list_items(visible)`` returns the dicts to list; ``visible_ids(user)`` (optional) returns None
    (everything) or the ids a restricted viewer may read. Writes are admin only.
    """
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    read_guard = login_required if viewer_can_read else admin_required

    def visible():
        return visible_ids(current_user) if visible_ids else None

    def get_item(item_id):
        item = model.get_or_none(model.id == item_id)
        allowed = visible()
        if item is None or (allowed is not None and item_id not in allowed):
            abort(404, description=f"{model.__name__} {item_id} does not exist")
        return item

    @bp.get("")
    @read_guard
    def list_view():
        return jsonify({name.removesuffix("_api"): list_items(visible())})

    @bp.post("")
    @admin_required
    def create_view():
        item = create(json_body())
        return jsonify(to_dict(item)), 201

    @bp.get("/<int:item_id>")
    @read_guard
    def read_view(item_id):
        return jsonify(to_dict(get_item(item_id)))

    @bp.patch("/<int:item_id>")
    @admin_required
    def update_view(item_id):
        item = update(get_item(item_id), json_body())
        return jsonify(to_dict(item))

    @bp.delete("/<int:item_id>")
    @admin_required
    def delete_view(item_id):
        delete(get_item(item_id))
        return "", 204

    return bp
