"""The backup file (SPEC §4), without Flask: what it holds, how it is written and how it is checked.

- ``canonical``  the top-level keys and sections, canonical bytes and the checksum, the file's layout
- ``export``     the whole configuration as a document, or straight as the file's bytes
- ``columns``    which columns each section holds and how values travel between database and file;
  ``rowtext`` builds the rows' canonical JSON text column by column (the fast path of ``export_bytes``)
- ``validate``   the one way in: parse strictly, check header and checksum, map 1.x files, check sections
- ``checks``     the sections' checks: types, ranges, unique keys and references, every error collected
- ``schema``     the item schemas of the sections only a backup carries (users' secrets, tokens, codes)
- ``legacy``     VibeNVR 1.x files, recognised and mapped to a version-2 document

Export: ``export.export_bytes`` → ``columns.table_json`` → ``canonical.assemble``. Import:
``validate.validate_document`` → ``legacy.convert`` (1.x only) → ``checks.check_sections``.
"""
