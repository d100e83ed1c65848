"""Which Transport class serves each location kind (SPEC §14)."""

import importlib

#: kind → "module:Class"; network kinds are imported when first used (their libraries are large).
CLASSES = {
    "folder": "vibenvr.backups.locations.folder:FolderTransport",
    "sftp": "vibenvr.backups.locations.sftp:SftpTransport",
    "webdav": "vibenvr.backups.locations.webdav:WebdavTransport",
    "s3": "vibenvr.backups.locations.s3:S3Transport",
}


def transport_for(settings):
    """A Transport for a location's settings (a dict in the location vocabulary, secrets included)."""
    module, _, name = CLASSES[settings["kind"]].partition(":")
    return getattr(importlib.import_module(module), name)(settings)
