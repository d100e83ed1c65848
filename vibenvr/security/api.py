"""``/api/tokens``: every signed-in user manages their own tokens; admins see and manage everyone's."""

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user

from ..auth import reauth
from ..auth.decorators import login_required
from ..auth.tokens import sha256_hex, token_from_request, token_to_dict
from ..http import json_body
from ..models import ApiToken, User
from . import tokens

bp = Blueprint("tokens_api", __name__, url_prefix="/api/tokens")


def _visible(token_id):
    token = ApiToken.select(ApiToken, User).join(User).where(ApiToken.id == token_id).first()
    if token is None or (not current_user.is_admin and token.user_id != current_user.id):
        abort(404, description=f"API token {token_id} does not exist")
    return token


@bp.get("")
@login_required
def list_tokens():
    owner = None if current_user.is_admin else current_user
    query = tokens.tokens_query(owner)
    if current_user.is_admin and request.args.get("username"):
        query = query.where(User.username == request.args["username"])
    return jsonify({"tokens": [token_to_dict(t) for t in query]})


@bp.post("")
@login_required
def create_token():
    """With an API token: the new one expires no later than it. With a browser session: the body's
    ``current_password`` is required, as on the Security page (a copied cookie cannot mint tokens)."""
    data = json_body()
    not_after = None
    if g.get("auth_via_token"):
        acting = ApiToken.get_or_none(ApiToken.token_hash == sha256_hex(token_from_request(request)))
        not_after = acting.expires_at if acting is not None else None
    else:
        reauth.require(current_user, data, "make a token from a browser session")
    token, plain = tokens.create_token(data, current_user, not_after=not_after)
    return jsonify({**token_to_dict(token), "token": plain}), 201


@bp.get("/<int:token_id>")
@login_required
def read_token(token_id):
    return jsonify(token_to_dict(_visible(token_id)))


@bp.patch("/<int:token_id>")
@login_required
def update_token(token_id):
    return jsonify(token_to_dict(tokens.update_token(_visible(token_id), json_body())))


@bp.delete("/<int:token_id>")
@login_required
def delete_token(token_id):
    _visible(token_id).delete_instance()
    return "", 204
