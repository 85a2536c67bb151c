"""Alpine packages: apk's ``lib/apk/db/installed``.

The database is paragraphs of ``X:value`` lines (apk's own format, no library parses it in Python):
``P`` name, ``V`` version, ``A`` architecture, ``I`` installed size in bytes, ``F`` a folder and the
``R`` lines after it the files in that folder.
"""

from __future__ import annotations

from .. import limits
from .model import Ecosystem, Found
from .reading import Located, MetadataReader, text_of

INSTALLED = "lib/apk/db/installed"


class ApkCatalog:
    """apk's installed packages with their sizes and files."""

    ecosystem = Ecosystem.APK

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.unsupported: set[str] = set()

    def wants(self, path: str) -> bool:
        """apk's database only."""
        return path == INSTALLED

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None:
        """Re-read the database (it changed in this layer)."""
        where = files.get(INSTALLED)
        raw = reader.read(INSTALLED, where, limits.MAX_PACKAGE_DB_BYTES) if where is not None else None
        self.found = parse_installed(text_of(raw), reader) if raw is not None else {}


def parse_installed(text: str, reader: MetadataReader) -> dict[str, Found]:
    """The packages of an apk ``installed`` file; paragraphs without name or version are warnings."""
    out: dict[str, Found] = {}
    bad = 0
    for para in text.replace("\r\n", "\n").split("\n\n"):
        if not para.strip():
            continue
        fields: dict[str, str] = {}
        files: list[str] = []
        folder = ""
        for line in para.split("\n"):
            if len(line) < 2 or line[1] != ":":
                continue
            k, v = line[0], line[2:]
            if k == "F":
                folder = v.strip("/")
            elif k == "R":
                files.append(f"{folder}/{v}" if folder else v)
            elif k not in fields:
                fields[k] = v
        name, version = fields.get("P"), fields.get("V")
        if not name or not version:
            bad += 1
            if bad <= 3:
                reader.warnings.add(f"/{INSTALLED}: a paragraph without P: or V: skipped (cut short?)")
            continue
        if len(out) >= limits.MAX_PACKAGES:
            reader.warnings.add(f"/{INSTALLED}: more than {limits.MAX_PACKAGES} packages; the rest left out")
            break
        size = fields.get("I", "")
        out[name] = Found(
            name,
            name,
            version,
            int(size) if size.isdigit() else None,
            tuple(files),
            fields.get("A"),
            INSTALLED,
        )
    if bad > 3:
        reader.warnings.add(f"/{INSTALLED}: {bad - 3} more broken paragraph(s) skipped")
    return out
