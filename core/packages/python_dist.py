"""Python distributions anywhere in the image: ``*.dist-info`` (METADATA, RECORD) and ``*.egg-info``
(a folder with PKG-INFO and installed-files.txt, or a single PKG-INFO file).

METADATA and PKG-INFO are email-style headers (core metadata spec); the standard library's email
parser reads them, as importlib.metadata does. RECORD is CSV of path, hash, size, with paths
relative to the folder holding the dist-info (the site folder); installed-files.txt lists paths
relative to the egg-info folder. One site folder holds one installation of a name (normalised as
PEP 503 says), so (site folder, name) tells installations apart across layers.
"""

from __future__ import annotations

import csv
import posixpath
import re
from email.parser import Parser

from .. import limits
from .model import Ecosystem, Found
from .reading import Located, MetadataReader, joined, text_of

_NORMALISE = re.compile(r"[-_.]+")
METADATA_NAMES = ("METADATA", "PKG-INFO")


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them: lower case, runs of ``-_.`` as one ``-``."""
    return _NORMALISE.sub("-", name).lower()


def _info_folder(path: str) -> str | None:
    """The dist-info or egg-info folder (or egg-info file) ``path`` belongs to, if it is one of its
    metadata files."""
    folder, _, base = path.rpartition("/")
    if folder.endswith(".dist-info"):
        return folder if base in ("METADATA", "RECORD") else None
    if folder.endswith(".egg-info"):
        return folder if base in ("PKG-INFO", "installed-files.txt") else None
    if base.endswith(".egg-info"):
        return path  # the single-file form
    return None


class PythonCatalog:
    """Every Python distribution installed in the image (dist-info and egg-info)."""

    ecosystem = Ecosystem.PYTHON

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.unsupported: set[str] = set()
        self._by_folder: dict[str, Found] = {}

    def wants(self, path: str) -> bool:
        """Metadata files of dist-info and egg-info folders, and egg-info files."""
        return "-info" in path and _info_folder(path) is not None

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None:
        """Re-read each distribution whose metadata the layer changed."""
        folders = {f for p in changed if (f := _info_folder(p)) is not None}
        want: dict[str, Located] = {}
        for folder in folders:
            self._by_folder.pop(folder, None)
            for p in (
                folder,
                *(f"{folder}/{n}" for n in ("METADATA", "RECORD", "PKG-INFO", "installed-files.txt")),
            ):
                if p in files:
                    want[p] = files[p]
        got = reader.read_many(want, limits.MAX_PACKAGE_FILE_BYTES)
        for folder in folders:
            found = _distribution(folder, got, reader)
            if found is not None:
                self._by_folder[folder] = found
        self.found = {}
        # two records of one name in one site folder (a Debian egg-info next to a dist-info): the
        # dist-info counts
        for folder in sorted(self._by_folder, key=lambda f: (not f.endswith(".dist-info"), f)):
            dist = self._by_folder[folder]
            self.found.setdefault(dist.key, dist)


def _distribution(folder: str, got: dict[str, bytes], reader: MetadataReader) -> Found | None:
    single = folder.endswith(".egg-info") and folder in got
    meta_path = (
        folder if single else next((f"{folder}/{n}" for n in METADATA_NAMES if f"{folder}/{n}" in got), None)
    )
    if meta_path is None:
        return None  # the distribution is gone (or its metadata was skipped, with a warning)
    text = text_of(got[meta_path])
    headers = Parser().parsestr(text, headersonly=True)
    name, version = headers.get("Name"), headers.get("Version")
    if not isinstance(name, str) or not isinstance(version, str) or not name.strip() or not version.strip():
        reader.warnings.add(f"/{meta_path}: no Name or Version header; not counted as a distribution")
        return None
    name, version = name.strip(), version.strip()
    site = posixpath.dirname(folder)
    files: tuple[str, ...] = ()
    size: int | None = None
    record = got.get(f"{folder}/RECORD")
    if record is not None:
        files, size = _record(text_of(record), site)
    elif f"{folder}/installed-files.txt" in got:
        lines = text_of(got[f"{folder}/installed-files.txt"]).splitlines()
        files = _inside(folder, lines)
    key = f"{site}/{normalise(name)}"
    return Found(key, name, version, size, files, None, folder)


def _record(text: str, site: str) -> tuple[tuple[str, ...], int | None]:
    """Files (image paths) and their total size from a RECORD."""
    paths: list[str] = []
    total = 0
    sized = False
    try:
        for row in csv.reader(text.splitlines()):
            if not row or not row[0]:
                continue
            paths.append(row[0])
            if len(row) >= 3 and row[2].isdigit():
                total += int(row[2])
                sized = True
    except csv.Error:
        pass  # a broken RECORD: what was read so far
    return _inside(site, paths), (total if sized else None)


def _inside(base: str, rel: list[str]) -> tuple[str, ...]:
    """Paths relative to ``base`` as image paths (``..`` stops at the root)."""
    out = []
    for r in rel:
        r = r.strip()
        if not r:
            continue
        p = posixpath.normpath(posixpath.join("/" + base, r) if not r.startswith("/") else r)
        out.append(p)
    return joined(out)
