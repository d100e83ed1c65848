"""``/api/storage-profiles`` (admin only)."""

from ..crud import crud_blueprint
from ..models import StorageProfile
from . import service

bp = crud_blueprint(
    "storage_profiles_api",
    "/api/storage-profiles",
    StorageProfile,
    to_dict=service.profile_to_dict,
    list_items=lambda visible: [service.profile_to_dict(p) for p in service.list_profiles()],
    create=service.create_profile,
    update=service.update_profile,
    delete=service.delete_profile,
)
