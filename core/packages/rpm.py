"""RPM packages: the sqlite database (``rpmdb.sqlite``, rpm >= 4.16) and its header blobs.

The ``Packages`` table holds one header per package (``hnum``, ``blob``). A header blob as rpm
stores it (the RPM file format's header structure without its 8-byte magic) is: the count of index
entries and the byte length of the data store (two big-endian uint32), the index entries (16 bytes
each: tag, type, offset into the store, count), then the store. Of the types, INT16/32/64 are
big-endian arrays, STRING and I18NSTRING one (or the first) NUL-terminated string, STRING_ARRAY
``count`` of them. Python's sqlite3 opens only files on disk, so the database's bytes are copied to
a private temporary folder (with its write-ahead log, when the image has one) and read from there.

The BerkeleyDB (``Packages``) and ndb (``Packages.db``) databases of older and SUSE systems are
reported as unsupported, never guessed at.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator

from .. import limits
from .model import Ecosystem, Found
from .reading import Located, MetadataReader, joined

DB_FOLDERS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
SQLITE = "rpmdb.sqlite"
WAL = "rpmdb.sqlite-wal"
UNSUPPORTED = {"Packages": "BerkeleyDB", "Packages.db": "ndb"}

TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_SIZE, TAG_ARCH = 1000, 1001, 1002, 1003, 1009, 1022
TAG_OLDFILENAMES, TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES, TAG_LONGSIZE = 1027, 1116, 1117, 1118, 5009
_WANTED_TAGS = frozenset(
    {TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_SIZE, TAG_ARCH}
    | {TAG_OLDFILENAMES, TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES, TAG_LONGSIZE}
)
TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING = 3, 4, 5, 6, 8, 9
_INT_FORMATS = {TYPE_INT16: ("H", 2), TYPE_INT32: ("I", 4), TYPE_INT64: ("Q", 8)}
MAX_INDEX_ENTRIES = 1 << 20
"""Index entries of one header (real ones have a few hundred)."""

HeaderValue = str | list[str] | list[int]


class HeaderError(ValueError):
    """A header blob that does not hold together."""


def parse_header(blob: bytes) -> dict[int, HeaderValue]:
    """The tags LayerScope uses from one header blob. Raises HeaderError when it is malformed."""
    if len(blob) < 8:
        raise HeaderError("shorter than a header's 8-byte preamble")
    count, store_len = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * count
    if count > MAX_INDEX_ENTRIES or start + store_len > len(blob):
        raise HeaderError(f"{count} index entries and {store_len} data bytes do not fit {len(blob)} bytes")
    store = blob[start : start + store_len]
    out: dict[int, HeaderValue] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack_from(">IIII", blob, 8 + 16 * i)
        if tag not in _WANTED_TAGS:
            continue
        if offset >= store_len and n:
            raise HeaderError(f"tag {tag} points past the data ({offset} >= {store_len})")
        if kind in _INT_FORMATS:
            fmt, width = _INT_FORMATS[kind]
            if offset + width * n > store_len:
                raise HeaderError(f"tag {tag}: {n} integers run past the data")
            out[tag] = list(struct.unpack_from(f">{n}{fmt}", store, offset))
        elif kind in (TYPE_STRING, TYPE_I18NSTRING, TYPE_STRING_ARRAY):
            strings = _strings(store, offset, 1 if kind != TYPE_STRING_ARRAY else n, tag)
            out[tag] = strings if kind == TYPE_STRING_ARRAY else strings[0]
    return out


def _strings(store: bytes, offset: int, n: int, tag: int) -> list[str]:
    out: list[str] = []
    pos = offset
    for _ in range(n):
        end = store.find(b"\0", pos)
        if end < 0:
            raise HeaderError(f"tag {tag}: {n} string(s) not terminated inside the data")
        out.append(store[pos:end].decode("utf-8", "replace"))
        pos = end + 1
    return out


def header_package(h: dict[int, HeaderValue]) -> tuple[str, str, str | None, int | None, tuple[str, ...]]:
    """(name, version as ``[epoch:]version-release``, arch, size, files) of a parsed header."""
    name = _text(h.get(TAG_NAME))
    version, release = _text(h.get(TAG_VERSION)), _text(h.get(TAG_RELEASE))
    epoch = h.get(TAG_EPOCH)
    evr = f"{version}-{release}" if release else version
    if isinstance(epoch, list) and epoch and isinstance(epoch[0], int):
        evr = f"{epoch[0]}:{evr}"
    size_v = h.get(TAG_LONGSIZE) or h.get(TAG_SIZE)
    size = size_v[0] if isinstance(size_v, list) and size_v and isinstance(size_v[0], int) else None
    arch = _text(h.get(TAG_ARCH)) or None
    return name, evr, arch, size, _files(h)


def _text(v: HeaderValue | None) -> str:
    return v if isinstance(v, str) else ""


def _files(h: dict[int, HeaderValue]) -> tuple[str, ...]:
    base, dirs, idx = h.get(TAG_BASENAMES), h.get(TAG_DIRNAMES), h.get(TAG_DIRINDEXES)
    if isinstance(base, list) and isinstance(dirs, list) and isinstance(idx, list):
        out = []
        for b, d in zip(base, idx, strict=False):
            if isinstance(d, int) and 0 <= d < len(dirs):
                out.append(f"{dirs[d]}{b}")
        return joined(str(p) for p in out)
    old = h.get(TAG_OLDFILENAMES)
    return joined(str(p) for p in old) if isinstance(old, list) else ()


class RpmCatalog:
    """RPM's packages from rpmdb.sqlite; the other two database kinds reported unsupported."""

    ecosystem = Ecosystem.RPM

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.unsupported: set[str] = set()

    def wants(self, path: str) -> bool:
        """The database files of the two places rpm keeps them."""
        for folder in DB_FOLDERS:
            if path.startswith(folder):
                name = path[len(folder) :]
                return name in (SQLITE, WAL) or name in UNSUPPORTED
        return False

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None:
        """Re-read the sqlite database where one is; name an unsupported one."""
        self.found = {}
        self.unsupported = set()
        for folder in DB_FOLDERS:
            db = folder + SQLITE
            if db in files:
                self.found.update(self._read_sqlite(db, files, reader))
                continue
            for name, kind in UNSUPPORTED.items():
                if folder + name in files:
                    self.unsupported.add(
                        f"/{folder}{name}: an RPM {kind} database (not supported; only rpmdb.sqlite is read)"
                    )

    def _read_sqlite(self, db: str, files: dict[str, Located], reader: MetadataReader) -> dict[str, Found]:
        wal = db.removesuffix(SQLITE) + WAL
        want = {db: files[db]} | ({wal: files[wal]} if wal in files else {})
        got = reader.read_many(want, limits.MAX_PACKAGE_DB_BYTES)
        if db not in got:
            return {}
        out: dict[str, Found] = {}
        try:
            for hnum, blob in _rows(got[db], got.get(wal)):
                try:
                    name, evr, arch, size, pfiles = header_package(parse_header(blob))
                except HeaderError as exc:
                    reader.warnings.add(f"/{db}: package header {hnum} skipped: {exc}")
                    continue
                if not name:
                    continue
                key = f"{name}.{arch}" if arch else name
                if key in out:  # several versions at once (kernels, gpg-pubkey)
                    key = f"{key}-{evr}"
                if len(out) >= limits.MAX_PACKAGES:
                    reader.warnings.add(f"/{db}: more than {limits.MAX_PACKAGES} packages; the rest left out")
                    break
                out[key] = Found(key, name, evr, size, pfiles, arch, db)
        except _NotSqlite as exc:
            reader.warnings.add(f"/{db}: not a readable RPM sqlite database ({exc})")
        return out


class _NotSqlite(Exception):
    pass


def _rows(data: bytes, wal: bytes | None) -> Iterator[tuple[int, bytes]]:
    """(hnum, blob) of every row of the Packages table of a database given as bytes.

    Raises _NotSqlite when sqlite cannot read it (not a database, no Packages table, corrupt)."""
    try:
        import sqlite3
    except ImportError as exc:  # a Python built without it
        raise _NotSqlite("this Python has no sqlite3 module") from exc
    with tempfile.TemporaryDirectory(prefix="layerscope-rpmdb-") as folder:
        path = os.path.join(folder, SQLITE)
        with open(path, "wb") as f:
            f.write(data)
        if wal is not None:
            with open(path + "-wal", "wb") as f:
                f.write(wal)
        try:
            con = sqlite3.connect(path)
        except sqlite3.Error as exc:
            raise _NotSqlite(str(exc)) from exc
        try:
            cur = con.execute("SELECT hnum, blob FROM Packages")
            while True:
                rows = cur.fetchmany(256)
                if not rows:
                    break
                for hnum, blob in rows:
                    if isinstance(blob, bytes) and len(blob) <= limits.MAX_RPM_HEADER_BYTES:
                        yield int(hnum), blob
        except sqlite3.Error as exc:
            raise _NotSqlite(str(exc)) from exc
        finally:
            con.close()
