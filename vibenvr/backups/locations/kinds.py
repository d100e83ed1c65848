"""Which Transport class serves each location kind (SPEC §14)."""

import importlib

from .transport import LocationError

#: kind → "module:Class"; network kinds are imported when first used (their libraries are large).
CLASSES = {
    "folder": "vibenvr.backups.locations.folder:FolderTransport",
    "sftp": "vibenvr.backups.locations.sftp:SftpTransport",
    "webdav": "vibenvr.backups.locations.webdav:WebdavTransport",
    "s3": "vibenvr.backups.locations.s3:S3Transport",
}


def transport_for(settings):
    """A Transport for a location's settings (a dict in the location vocabulary, secrets included);
    LocationError when the kind is not available or the settings cannot make one."""
    module, _, name = CLASSES[settings["kind"]].partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as exc:  # the kind's module or its client library is missing from this build
        raise LocationError("unavailable", f"{settings['kind']} locations need {exc.name or module}") from None
    try:
        return cls(settings)
    except ValueError as exc:
        raise LocationError("protocol", f"the location's settings cannot be used: {exc}") from None
