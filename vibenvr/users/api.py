"""``/api/users`` (admin only): list, create, read, update, delete; ``password`` is write-only."""

from flask_login import current_user

from ..crud import crud_blueprint
from ..models import User
from . import service

bp = crud_blueprint(
    "users_api",
    "/api/users",
    User,
    to_dict=service.user_to_dict,
    list_items=lambda visible: [service.user_to_dict(u) for u in service.list_users()],
    create=service.create_user,
    update=service.update_user,
    delete=lambda user: service.delete_user(user, acting_user=current_user),
)
