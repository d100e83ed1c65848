"""Storage profiles: where recordings go and how large they may grow."""

from peewee import IntegrityError

from ..db import current_row, save_changes, write_transaction
from ..models import Camera, StorageProfile
from ..validation import ConflictError, clean_object
from .schema import STORAGE_PROFILE_SCHEMA


def profile_to_dict(profile):
    return {
        "id": profile.id,
        "name": profile.name,
        "path": profile.path,
        "description": profile.description,
        "max_size_gb": profile.max_size_gb,
    }


def list_profiles():
    return list(StorageProfile.select().order_by(StorageProfile.name))


def _check_unique_name(name, exclude_id=None):
    query = StorageProfile.select().where(StorageProfile.name == name)
    if exclude_id is not None:
        query = query.where(StorageProfile.id != exclude_id)
    if query.exists():
        raise ConflictError(f'name: a storage profile named "{name}" already exists')


def create_profile(data):
    clean, _ = clean_object(STORAGE_PROFILE_SCHEMA, data)
    try:
        with write_transaction():
            _check_unique_name(clean["name"])
            return StorageProfile.create(**clean)
    except IntegrityError:
        raise ConflictError(f'name: a storage profile named "{clean["name"]}" already exists') from None


def update_profile(profile, data):
    """Apply a partial update to the row as it is now; only the fields present are written (SPEC §12)."""
    clean, _ = clean_object(STORAGE_PROFILE_SCHEMA, data, partial=True)
    try:
        with write_transaction():
            profile = current_row(StorageProfile, profile.id, "storage profile")
            if "name" in clean:
                _check_unique_name(clean["name"], exclude_id=profile.id)
            save_changes(profile, clean)
    except IntegrityError:
        raise ConflictError(f'name: a storage profile named "{clean.get("name")}" already exists') from None
    return profile


def delete_profile(profile):
    """Delete the profile; its cameras fall back to the default storage."""
    with write_transaction():
        Camera.update(storage_profile=None).where(Camera.storage_profile == profile.id).execute()
        profile.delete_instance()
