"""Read tar headers fast and keep lean records: never file bytes.

Two sources feed one header decoder:

* a buffer (``mmap`` of an uncompressed layer, or of a whole uncompressed archive): headers are
  sliced out and member data is skipped by arithmetic, which is what makes plain layers cheap;
* a stream (a decompressor): data is read and dropped.

Python's ``tarfile`` keeps every member it has read (cpython issue 102120) and raises on the tars
some real tools write (no end-of-archive blocks, GNU base-256 ids), so LayerScope reads headers
itself. Each record keeps the data offset in the uncompressed stream so content can be opened later
by (layer, offset, size).
"""

from __future__ import annotations

import os
import posixpath
import struct
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .errors import Cancelled, CorruptArchive, UnsupportedFormat

BLOCK = 512

# ---- limits -------------------------------------------------------------------------------------
# What no real image comes near, so that a hostile or broken one costs bounded memory and time.
MAX_PATH = 16384
"""Characters in a member name or link target. Linux addresses at most 4096 bytes (PATH_MAX), so no
runtime unpacks a longer path; tar can hold one, and LayerScope keeps up to four times that (a 4096
levels deep path takes about 8 KB). Longer members are left out of the index with a warning. This
also bounds the folders one name implies (at most 8192 levels)."""
MAX_ENTRIES = 4_000_000
"""Entries indexed per archive, all layers together. A very large real image has about 1 million
(measured: 345 MB to index a million entries, 710 MB at the peak of the full analysis); an archive
with more is refused."""
MAX_INDEX_BYTES = 1536 << 20
"""Estimated memory of the index per archive: entries, names, link targets, xattrs, and the folders
that deep names imply (the merge creates them). The merge and the figures need about as much again.
Past it the archive is refused rather than exhausting memory: many distinct chains of deep folders
cost far more than the bytes that name them."""
MAX_XATTR_BYTES = 64 << 10
"""Bytes of extended attributes kept per member (Linux's own limit per file); the rest are dropped."""
AFTER_END = 16 << 20
"""Bytes of a compressed stream read after the tar's end-of-archive marker only to learn its size.
Beyond this (e.g. a gzip of zeros, which expands 1000-fold) the rest is not decompressed: the size
is reported as at least what was read, with a warning."""
MAX_WARNINGS = 20
"""Warnings of one kind kept per layer; the rest are counted in one summary line."""


class IndexBudget:
    """Entries and estimated bytes indexed so far for one archive; refuses past MAX_ENTRIES and
    MAX_INDEX_BYTES with a one-line error. Shared by the layers of an archive (a lost update between
    two indexing threads only makes the estimate slightly low)."""

    def __init__(self, max_entries: int | None = None, max_bytes: int | None = None) -> None:
        self.entries = 0
        self.bytes = 0
        self.max_entries = MAX_ENTRIES if max_entries is None else max_entries
        self.max_bytes = MAX_INDEX_BYTES if max_bytes is None else max_bytes

    def charge(self, entries: int, nbytes: int, label: str) -> None:
        self.entries += entries
        self.bytes += nbytes
        if self.entries > self.max_entries:
            raise UnsupportedFormat(
                f"{label}: the archive holds more than {self.max_entries:,} entries; LayerScope stops "
                "there to bound memory"
            )
        if self.bytes > self.max_bytes:
            raise UnsupportedFormat(
                f"{label}: indexing would need more than {self.max_bytes >> 20:,} MB of memory "
                f"({self.entries:,} entries so far, long or deeply nested names); LayerScope stops there"
            )


class _Warnings:
    """Warnings of a layer, at most MAX_WARNINGS of each kind; the rest are counted."""

    def __init__(self) -> None:
        self.list: list[str] = []
        self._count: dict[str, int] = {}

    def add(self, kind: str, text: str) -> None:
        n = self._count.get(kind, 0) + 1
        self._count[kind] = n
        if n <= MAX_WARNINGS:
            self.list.append(text)

    def finish(self, label: str) -> list[str]:
        for kind, n in self._count.items():
            if n > MAX_WARNINGS:
                self.list.append(f"{label}: {n - MAX_WARNINGS} more warnings like the above ({kind})")
        return self.list


_ZERO = bytes(BLOCK)

# tar typeflag -> our entry type
_TYPES: dict[int, str] = {
    ord("0"): "file",
    0: "file",
    ord("7"): "file",
    ord("1"): "hardlink",
    ord("2"): "symlink",
    ord("3"): "char",
    ord("4"): "block",
    ord("5"): "dir",
    ord("6"): "fifo",
    ord("S"): "file",  # old GNU sparse
}
_PAX_LOCAL = ord("x")
_PAX_GLOBAL = ord("g")
_GNU_LONGNAME = ord("L")
_GNU_LONGLINK = ord("K")
_GNU_SPARSE = ord("S")
_IGNORED = {ord("V"), ord("M"), ord("N"), ord("D")}  # volume label, multi-volume, old long names, dumpdir

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
ESTARGZ_METADATA = frozenset({"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"})

ENTRY_TYPES = ("file", "dir", "symlink", "hardlink", "char", "block", "fifo", "socket", "whiteout", "opaque")


class Entry(NamedTuple):
    """One member of a layer tar, as lean as we can keep it.

    ``path`` is normalised (no leading ``/`` or ``./``, no trailing ``/``; the root is never an
    entry). For ``whiteout`` entries ``path`` is the path deleted from lower layers, for ``opaque``
    entries the directory whose lower children are hidden. ``offset`` is where the member's data
    starts in the uncompressed layer stream. ``extra`` holds rarely present fields (xattrs,
    user/group names, device numbers, sparse maps, the raw tar name when it was not normal).
    """

    path: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    link: str | None
    offset: int
    extra: dict[str, object] | None


class IndexResult(NamedTuple):
    entries: list[Entry]
    members: int  # tar members read (the root and whiteout markers included; extended headers not)
    metadata: list[Entry]  # eStargz TOC and landmarks: shown as layer details, not as files
    size: int  # bytes of the uncompressed stream
    warnings: list[str]


Progress = Callable[[int], None]
CancelCheck = Callable[[], bool]


def _num(field: bytes) -> int:
    """Decode a numeric tar field: octal text, or GNU base-256 when the top bit is set."""
    if field and field[0] & 0x80:
        if field[0] == 0xFF:  # negative, two's complement
            return int.from_bytes(field, "big", signed=True)
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    s = field.split(b"\0", 1)[0].strip()
    if not s:
        return 0
    return int(s, 8)


_HEADER = struct.Struct("100s8s8s8s12s12s8sB100s6s2s32s32s8s8s155s")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _cstr(field: bytes) -> bytes:
    i = field.find(0)
    return field if i < 0 else field[:i]


def checksum_ok(hdr: bytes) -> bool:
    """True when the header's checksum field matches (signed or unsigned sum, as tar allows)."""
    try:
        stored = _num(hdr[148:156])
    except ValueError:
        return False
    unsigned = sum(hdr[:148]) + 256 + sum(hdr[156:])
    if stored == unsigned:
        return True
    signed = sum((b - 256 if b > 127 else b) for b in hdr[:148] + hdr[156:]) + 256
    return stored == signed


def ancestors(path: str) -> Iterator[str]:
    """The folders above a normalised path, nearest first: ``a/b/c`` -> ``a/b``, ``a``."""
    j = path.rfind("/")
    while j >= 0:
        path = path[:j]
        yield path
        j = path.rfind("/")


def normalize(name: str) -> str | None:
    """Return the normalised path of a tar member name, or None when it escapes the root.

    ``./a``, ``/a``, ``a/``, ``a//b`` and ``a/./b`` all become ``a``-relative forms; ``..`` is
    resolved lexically and a name that climbs above the root is rejected (None), never followed.
    The root itself becomes ``""``.
    """
    if (
        name
        and name[0] not in "./"
        and name[-1] != "/"
        and "//" not in name
        and "/." not in name
        and not name.startswith("..")
    ):
        return name
    stripped = name.lstrip("/")
    if not stripped or stripped in (".", "./"):
        return ""
    norm = posixpath.normpath(stripped)
    if norm == ".":
        return ""
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


def _parse_pax(data: bytes, path_hint: str) -> dict[str, str | bytes]:
    """Parse PAX records ``"<len> <key>=<value>\\n"``; values stay bytes for xattrs."""
    out: dict[str, str | bytes] = {}
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos] == 0:
            break
        sp = data.find(b" ", pos)
        if sp < 0:
            raise CorruptArchive(f"malformed PAX header near {path_hint!r}")
        try:
            length = int(data[pos:sp])
        except ValueError as exc:
            raise CorruptArchive(f"malformed PAX record length near {path_hint!r}") from exc
        if length <= 0 or pos + length > n:
            raise CorruptArchive(f"malformed PAX record near {path_hint!r}")
        rec = data[sp + 1 : pos + length - 1]  # without the trailing newline
        eq = rec.find(b"=")
        if eq < 0:
            raise CorruptArchive(f"malformed PAX record near {path_hint!r}")
        key = rec[:eq].decode("utf-8", "replace")
        val = rec[eq + 1 :]
        if key.startswith(("SCHILY.xattr.", "LIBARCHIVE.xattr.")):
            out[key] = val
        else:
            out[key] = val.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _pax_int(pax: dict[str, str | bytes], key: str, default: int) -> int:
    """A PAX number (decimal, possibly with a fraction); ``default`` when absent or not a finite number."""
    v = pax.get(key)
    if not isinstance(v, str):
        return default
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return int(float(v))
    except (ValueError, OverflowError):  # "abc", "nan", "inf", "1e400"
        return default


class _Source:
    """Where header and data bytes come from. Positions are offsets in the uncompressed stream."""

    pos: int

    def header(self) -> tuple[Any, ...] | None:
        """The next 512-byte header's fields (see _HEADER), or None at the end of the stream."""
        raise NotImplementedError

    def raw(self, pos: int) -> bytes:
        """The 512 header bytes at ``pos`` (only the last header read)."""
        raise NotImplementedError

    def is_zero(self, pos: int) -> bool:
        return not any(self.raw(pos))

    def block(self) -> bytes:
        """The next 512 bytes (fewer at the end of the stream); advances."""
        raise NotImplementedError

    def read(self, n: int) -> bytes:
        raise NotImplementedError

    def skip(self, n: int) -> int:
        """Skip n bytes; return how many were really there."""
        raise NotImplementedError

    def drain(self, limit: int | None = None) -> tuple[int, bool]:
        """Skip to the end, or ``limit`` bytes at most; return (position, whether the end was reached)."""
        raise NotImplementedError

    def release_read(self) -> None:
        """Let go of what has been read so far (memory-mapped pages); a no-op for streams."""


class BufferSource(_Source):
    """A memory buffer (bytes, or a memory map's view) region ``[start, end)``.

    ``release(a, b)`` is called now and then for the region already read, so that a memory-mapped
    source can drop pages it will not touch again (they would otherwise count as resident memory).
    """

    RELEASE_EVERY = 64 << 20

    def __init__(
        self,
        buf: bytes | memoryview,
        start: int = 0,
        end: int | None = None,
        release: Callable[[int, int], None] | None = None,
    ) -> None:
        self.buf = buf
        self.base = start
        self.end = len(buf) if end is None else end
        self.pos = 0
        self._release = release
        self._released = 0

    def _maybe_release(self) -> None:
        if self._release is not None and self.pos - self._released >= self.RELEASE_EVERY:
            self._release(self.base + self._released, self.base + self.pos)
            self._released = self.pos

    def block(self) -> bytes:
        a = self.base + self.pos
        b = a + BLOCK
        if b > self.end:
            b = max(a, self.end)
        self.pos += b - a
        return bytes(self.buf[a:b])

    def header(self) -> tuple[Any, ...] | None:
        a = self.base + self.pos
        if a + BLOCK > self.end:
            rest = self.buf[a : self.end]
            if any(rest):
                raise CorruptArchive(f"truncated tar header at byte {self.pos}")
            self.pos = self.end - self.base
            return None
        self.pos += BLOCK
        return _HEADER.unpack_from(self.buf, a)

    def raw(self, pos: int) -> bytes:
        a = self.base + pos
        return bytes(self.buf[a : a + BLOCK])

    def read(self, n: int) -> bytes:
        a = self.base + self.pos
        b = min(a + n, self.end)
        self.pos += b - a
        return bytes(self.buf[a:b])

    def skip(self, n: int) -> int:
        if n < 0:
            raise ValueError("cannot skip backwards")
        a = self.base + self.pos
        b = a + n
        if b > self.end:
            b = max(a, self.end)
        self.pos += b - a
        if self._release is not None and self.pos - self._released >= self.RELEASE_EVERY:
            self._maybe_release()
        return b - a

    def release_read(self) -> None:
        self._maybe_release()

    def drain(self, limit: int | None = None) -> tuple[int, bool]:
        self.pos = self.end - self.base
        if self._release is not None:
            self._release(self.base + self._released, self.end)
        return self.pos, True


class StreamSource(_Source):
    """A file-like object with ``read(n)`` (e.g. a decompressor), read in large chunks."""

    CHUNK = 1 << 20

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._buf = b""
        self._i = 0
        self.pos = 0
        self._eof = False
        self._last: tuple[int, bytes] = (-1, b"")

    def _fill(self, need: int) -> None:
        if len(self._buf) - self._i >= need or self._eof:
            return
        parts = [self._buf[self._i :]]
        have = len(parts[0])
        while have < need:
            chunk = self._read(max(self.CHUNK, need - have))
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)
        self._i = 0

    def block(self) -> bytes:
        return self.read(BLOCK)

    def header(self) -> tuple[Any, ...] | None:
        b = self.read(BLOCK)
        if len(b) < BLOCK:
            if any(b):
                raise CorruptArchive(f"truncated tar header at byte {self.pos - len(b)}")
            return None
        self._last = (self.pos - BLOCK, b)
        return _HEADER.unpack_from(b)

    def raw(self, pos: int) -> bytes:
        last_pos, b = self._last
        if last_pos != pos:
            raise ValueError("only the last header is kept")
        return b

    def read(self, n: int) -> bytes:
        self._fill(n)
        out = self._buf[self._i : self._i + n]
        self._i += len(out)
        self.pos += len(out)
        return out

    def skip(self, n: int) -> int:
        if n < 0:
            raise ValueError("cannot skip backwards")
        avail = len(self._buf) - self._i
        if n <= avail:
            self._i += n
            self.pos += n
            return n
        done = avail
        self._buf = b""
        self._i = 0
        while done < n:
            chunk = self._read(min(self.CHUNK * 4, max(self.CHUNK, n - done)))
            if not chunk:
                self._eof = True
                break
            if done + len(chunk) > n:
                used = n - done
                self._buf = chunk
                self._i = used
                done = n
                break
            done += len(chunk)
        self.pos += done
        return done

    def drain(self, limit: int | None = None) -> tuple[int, bool]:
        left = len(self._buf) - self._i
        self.pos += left
        self._buf = b""
        self._i = 0
        if self._eof:
            return self.pos, True
        budget = None if limit is None else limit - left
        while budget is None or budget > 0:
            chunk = self._read(self.CHUNK * 4 if budget is None else min(self.CHUNK * 4, max(budget, 1)))
            if not chunk:
                self._eof = True
                return self.pos, True
            self.pos += len(chunk)
            if budget is not None:
                budget -= len(chunk)
        if not self._read(1):
            self._eof = True
            return self.pos, True
        self.pos += 1
        return self.pos, False


def _gnu_sparse_map(hdr: bytes, src: _Source, name: str) -> tuple[list[tuple[int, int]], int]:
    """Old GNU sparse: the map in the header (4 slots) and extension blocks. Returns (map, realsize)."""
    smap: list[tuple[int, int]] = []

    def slots(area: bytes, count: int) -> None:
        for k in range(count):
            off = _num(area[k * 24 : k * 24 + 12])
            ln = _num(area[k * 24 + 12 : k * 24 + 24])
            if off < 0 or ln < 0:
                raise ValueError("negative sparse map entry")
            if off or ln:
                smap.append((off, ln))

    try:
        slots(hdr[386:482], 4)
        extended = hdr[482]
        realsize = _num(hdr[483:495])
        guard = 0
        while extended:
            ext = src.block()
            if len(ext) < BLOCK:
                raise CorruptArchive(f"truncated sparse header of {name!r}")
            slots(ext[:504], 21)
            extended = ext[504]
            guard += 1
            if guard > 100000:
                raise CorruptArchive(f"sparse map of {name!r} never ends")
    except ValueError as exc:
        raise CorruptArchive(f"bad sparse map of {name!r}") from exc
    if realsize < 0:
        raise CorruptArchive(f"bad sparse map of {name!r}")
    return smap, realsize


def _pax_sparse_map(src: _Source, name: str, limit: int, size: int) -> tuple[list[tuple[int, int]], int]:
    """PAX sparse 1.0: decimal map at the start of the data (``size`` bytes), padded to a block.

    Returns (map, bytes used)."""
    buf = b""
    used = 0
    while True:
        blk = src.block()
        if len(blk) < BLOCK:
            raise CorruptArchive(f"truncated sparse map of {name!r}")
        buf += blk
        used += BLOCK
        nums = buf.split(b"\n")
        if len(nums) > 1:
            try:
                count = int(nums[0])
                if count < 0 or count > limit:
                    raise ValueError("bad count")
                if len(nums) - 1 > 2 * count:
                    vals = [int(x) for x in nums[1 : 1 + 2 * count]]
                    if any(v < 0 for v in vals):
                        raise ValueError("negative sparse map entry")
                    return [(vals[2 * k], vals[2 * k + 1]) for k in range(count)], used
            except ValueError as exc:
                raise CorruptArchive(f"bad sparse map of {name!r}") from exc
        if used > 1 << 24 or used > size:
            raise CorruptArchive(f"sparse map of {name!r} is too large")


def _sparse_map_01(text: str, name: str) -> list[tuple[int, int]]:
    try:
        vals = [int(x) for x in text.split(",")] if text else []
    except ValueError as exc:
        raise CorruptArchive(f"bad sparse map of {name!r}") from exc
    if len(vals) % 2 or any(v < 0 for v in vals):
        raise CorruptArchive(f"bad sparse map of {name!r}")
    return [(vals[k], vals[k + 1]) for k in range(0, len(vals), 2)]


_SKIP_STEP = 64 << 20


def _skip_data(src: _Source, n: int, progress: Progress | None, cancelled: CancelCheck | None) -> int:
    """Skip a member's data; a large one in steps, with progress and a chance to cancel in between."""
    if n <= _SKIP_STEP:
        return src.skip(n)
    done = 0
    while done < n:
        step = min(_SKIP_STEP, n - done)
        got = src.skip(step)
        done += got
        if got < step:
            break
        if cancelled is not None and cancelled():
            raise Cancelled()
        if progress is not None:
            progress(src.pos)
    return done


def read_entries(
    src: _Source,
    *,
    estargz: bool = False,
    overlay: bool = True,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    label: str = "layer",
    budget: IndexBudget | None = None,
) -> IndexResult:
    """Index every member of the tar in ``src``.

    Raises CorruptArchive for a damaged tar (bad header, data cut short); a missing end-of-archive
    marker or missing final padding (umoci 0.4.7 ``insert``) is a warning, not an error. Members
    whose name is longer than MAX_PATH, or holds a NUL byte, are left out with a warning. ``budget``
    (a fresh one when not given) refuses an archive past MAX_ENTRIES or MAX_INDEX_BYTES with
    UnsupportedFormat.
    """
    if budget is None:
        budget = IndexBudget()
    entries: list[Entry] = []
    metadata: list[Entry] = []
    warns = _Warnings()
    gpax: dict[str, str | bytes] = {}
    pax: dict[str, str | bytes] = {}
    longname: str | None = None
    longlink: str | None = None
    seen_landmark = False
    count = 0
    members = 0
    unsafe = 0
    first = True
    clean_end = False
    append = entries.append
    types = _TYPES
    cost = 0  # estimated bytes kept since the last charge to the budget
    charged = 0  # entries charged so far
    prev_parent = ""
    while True:
        hdr_pos = src.pos
        fields = src.header()
        if fields is None:
            break
        (
            f_name,
            f_mode,
            f_uid,
            f_gid,
            f_size,
            f_mtime,
            _chk,
            tflag,
            f_link,
            magic,
            _ver,
            f_uname,
            f_gname,
            f_major,
            f_minor,
            f_prefix,
        ) = fields
        if not f_name[0] and not tflag and src.is_zero(hdr_pos):
            clean_end = True
            break
        ustar = magic == b"ustar\x00"
        gnu = magic == b"ustar "
        if (first or not (ustar or gnu)) and not checksum_ok(src.raw(hdr_pos)):
            if first:
                raise CorruptArchive(f"{label}: not a tar archive (bad header checksum at byte {hdr_pos})")
            raise CorruptArchive(f"{label}: corrupt tar header at byte {hdr_pos}")
        first = False
        try:
            size = int(f_size[:-1], 8)
            mode = int(f_mode[:-1], 8) & 0o7777
            uid = int(f_uid[:-1], 8)
            gid = int(f_gid[:-1], 8)
            mtime = int(f_mtime[:-1], 8)
        except ValueError:
            try:  # base-256, NUL-filled or unterminated fields: the careful decoder
                size = _num(f_size)
                mode = _num(f_mode) & 0o7777
                uid = _num(f_uid)
                gid = _num(f_gid)
                mtime = _num(f_mtime)
            except ValueError as exc:
                raise CorruptArchive(f"{label}: corrupt tar header at byte {hdr_pos}") from exc
        if size < 0:
            raise CorruptArchive(f"{label}: negative member size at byte {hdr_pos}")
        padded = (size + 511) & ~511

        if tflag in (_PAX_LOCAL, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK):
            if size > 16 << 20:
                raise CorruptArchive(
                    f"{label}: extended header of {size} bytes at byte {hdr_pos} is too large"
                )
            data = src.read(size)
            if len(data) < size:
                raise CorruptArchive(f"{label}: truncated extended header at byte {hdr_pos}")
            src.skip(padded - size)
            if tflag == _PAX_LOCAL:
                pax = _parse_pax(data, longname or "")
            elif tflag == _PAX_GLOBAL:
                gpax.update(_parse_pax(data, ""))
            elif tflag == _GNU_LONGNAME:
                longname = _text(_cstr(data))
            else:
                longlink = _text(_cstr(data))
            continue

        if tflag in _IGNORED:
            if _skip_data(src, padded, progress, cancelled) < size:
                raise CorruptArchive(f"{label}: truncated member at byte {hdr_pos}")
            pax = {}
            longname = longlink = None
            continue

        # --- a real member -------------------------------------------------------------------
        p = ({**gpax, **pax} if gpax else pax) if (pax or gpax) else None
        if p and "path" in p:
            raw_name = str(p["path"])
        elif longname is not None:
            raw_name = longname
        else:
            nm = _cstr(f_name)
            if ustar and f_prefix[0]:
                nm = _cstr(f_prefix) + b"/" + nm
            raw_name = _text(nm)
        if p and "linkpath" in p:
            link: str | None = str(p["linkpath"])
        elif longlink is not None:
            link = longlink
        else:
            link = _text(_cstr(f_link)) if f_link[0] else None
        extra: dict[str, object] | None = None
        etype = types.get(tflag)
        if etype is None:
            # Unknown type flags are treated as regular files, as POSIX asks.
            warns.add(
                "unknown tar types",
                f"{label}: {raw_name[:200]!r} has unknown tar type {chr(tflag)!r}; read as a file",
            )
            etype = "file"
        if tflag == _GNU_SPARSE:
            smap, realsize = _gnu_sparse_map(src.raw(hdr_pos), src, raw_name[:200])
            extra = {"sparse": smap, "stored_size": size}
        if p:
            if "size" in p:
                size = _pax_int(p, "size", size)
                if size < 0:
                    raise CorruptArchive(f"{label}: negative member size in the PAX header at byte {hdr_pos}")
                padded = (size + 511) & ~511
            uid = _pax_int(p, "uid", uid)
            gid = _pax_int(p, "gid", gid)
            mtime = _pax_int(p, "mtime", mtime)
            xattrs = {
                k.split(".", 2)[2]: v
                for k, v in p.items()
                if k.startswith(("SCHILY.xattr.", "LIBARCHIVE.xattr."))
            }
            if xattrs:
                kept = _xattrs(xattrs)
                if len(kept) < len(xattrs):
                    warns.add(
                        "extended attributes",
                        f"{label}: {raw_name[:200]!r}: {len(xattrs) - len(kept)} extended attribute(s) "
                        f"with an empty or NUL-holding name, or beyond {MAX_XATTR_BYTES} bytes, left out",
                    )
                if kept:
                    extra = extra or {}
                    extra["xattrs"] = kept
                    cost += sum(len(k) + len(v) + 100 for k, v in kept.items())
            for k in ("uname", "gname"):
                if k in p:
                    extra = extra or {}
                    extra[k] = str(p[k])[:256]
            if "GNU.sparse.name" in p:
                raw_name = str(p["GNU.sparse.name"])
        data_size = size
        if tflag == _GNU_SPARSE:
            size = realsize
        elif p and ("GNU.sparse.realsize" in p or "GNU.sparse.size" in p):
            realsize = _pax_int(p, "GNU.sparse.realsize", _pax_int(p, "GNU.sparse.size", size))
            if realsize < 0:
                raise CorruptArchive(f"{label}: negative sparse file size of {raw_name[:200]!r}")
            extra = extra or {}
            if p.get("GNU.sparse.major") == "1":
                smap, used = _pax_sparse_map(src, raw_name[:200], max(1, size // 16 + 1), size)
                data_size = size - used
                padded -= used
            elif "GNU.sparse.map" in p:  # sparse 0.1: "offset,length,offset,length..."
                smap = _sparse_map_01(str(p["GNU.sparse.map"]), raw_name[:200])
            else:  # 0.0 (offset/numbytes repeated: only the last survives) or no map at all
                warns.add(
                    "sparse",
                    f"{label}: sparse file {raw_name[:200]!r} without a usable map; its stored bytes "
                    "are read as its beginning",
                )
                smap = [(0, min(data_size, realsize))]
            extra["sparse"] = smap
            extra["stored_size"] = data_size
            size = realsize
        if etype in ("char", "block"):
            extra = extra or {}
            try:
                extra["devmajor"] = _num(f_major)
                extra["devminor"] = _num(f_minor)
            except ValueError:
                extra["devmajor"] = extra["devminor"] = 0
        if p is None and (f_uname[0] or f_gname[0]):
            un = _cstr(f_uname)
            gn = _cstr(f_gname)
            if un or gn:
                extra = extra or {}
                extra["uname"] = _text(un)
                extra["gname"] = _text(gn)
        pax = {}
        longname = longlink = None
        members += 1

        data_off = src.pos
        if data_size:
            got = _skip_data(src, padded, progress, cancelled)
            if got < data_size:
                raise CorruptArchive(
                    f"{label}: {raw_name[:200]!r} claims {data_size} bytes but the stream ends after {got}"
                )
            if got < padded:
                warns.add("padding", f"{label}: the last member {raw_name[:200]!r} lacks its tar padding")

        if len(raw_name) > MAX_PATH or (link is not None and len(link) > MAX_PATH):
            warns.add(
                "long names",
                f"{label}: a member whose name or link target has more than {MAX_PATH} characters "
                f"({raw_name[:60]!r}…, {max(len(raw_name), len(link or ''))} characters) is left out; "
                "no system could unpack it",
            )
            continue
        if "\x00" in raw_name or (link is not None and "\x00" in link):
            warns.add("NUL names", f"{label}: {raw_name[:200]!r} has a NUL byte in its name or link; ignored")
            continue
        path = normalize(raw_name)
        if path is None:
            unsafe += 1
            if unsafe <= 20:
                warns.list.append(f"{label}: {raw_name[:200]!r} points outside the image root; ignored")
            continue
        if raw_name != path and raw_name.rstrip("/") not in (path, "./" + path, "/" + path):
            extra = extra or {}
            extra["raw_name"] = raw_name
        if etype == "hardlink" and not link:
            warns.add("hardlinks", f"{label}: hardlink {raw_name[:200]!r} names no target; ignored")
            continue
        if link is not None and etype == "hardlink":
            nlink = normalize(link)
            if nlink is None or nlink == "":
                unsafe += 1
                if unsafe <= 20:
                    warns.list.append(
                        f"{label}: hardlink {raw_name[:200]!r} -> {link[:200]!r} points outside the image; "
                        "ignored"
                    )
                continue
            link = nlink
        if not path:
            continue  # the root directory itself
        slash = path.rfind("/")
        base = path[slash + 1 :]
        # what the index keeps: the record, the name, the link, and the folders a new parent implies
        cost += 330 + len(path) + (len(link) if link else 0) + (200 if extra else 0)
        if slash >= 0:
            parent = path[:slash]
            if parent != prev_parent:
                # new folders since the previous entry's (exact for tar order, an overestimate else)
                if parent.startswith(prev_parent) and parent[len(prev_parent) : len(prev_parent) + 1] == "/":
                    cost += parent.count("/", len(prev_parent)) * (len(parent) + 500)
                else:
                    cost += (parent.count("/") + 1) * (len(parent) // 2 + 500)
                prev_parent = parent
        if overlay and base.startswith(".wh."):
            parent = path[:slash] if slash >= 0 else ""
            if base == OPAQUE_MARKER:
                append(Entry(parent, "opaque", 0, mode, uid, gid, mtime, None, data_off, None))
            elif base.startswith(".wh..wh."):
                metadata.append(Entry(path, "file", size, mode, uid, gid, mtime, None, data_off, extra))
            elif base == ".wh.":
                warns.add("whiteouts", f"{label}: invalid bare whiteout {raw_name[:200]!r}; ignored")
            else:
                target = base[4:]
                wpath = f"{parent}/{target}" if parent else target
                if target in (".", ".."):
                    warns.add("whiteouts", f"{label}: invalid whiteout {raw_name[:200]!r}; ignored")
                else:
                    append(Entry(wpath, "whiteout", 0, mode, uid, gid, mtime, None, data_off, None))
        elif (
            overlay
            and slash < 0
            and (
                base in (".prefetch.landmark", ".no.prefetch.landmark")
                or (base == "stargz.index.json" and (estargz or seen_landmark))
            )
        ):
            seen_landmark = True
            metadata.append(Entry(path, etype, size, mode, uid, gid, mtime, link, data_off, extra))
        else:
            append(Entry(path, etype, size, mode, uid, gid, mtime, link, data_off, extra))
        count += 1
        if count & 0x3FF == 0:
            budget.charge(count - charged, cost, label)
            charged, cost = count, 0
            src.release_read()
            if cancelled is not None and cancelled():
                raise Cancelled()
            if progress is not None:
                progress(src.pos)
    budget.charge(count - charged, cost, label)
    if unsafe > 20:
        warns.list.append(f"{label}: {unsafe} members in all point outside the image root; ignored")
    if not clean_end and (entries or metadata):
        warns.list.append(f"{label}: the tar has no end-of-archive marker (read completely anyway)")
    total, complete = src.drain(AFTER_END if clean_end else None)
    if not complete:
        warns.list.append(
            f"{label}: more than {AFTER_END >> 20} MB of data follow the tar's end-of-archive marker; "
            f"not read, so the uncompressed size is at least {total} bytes"
        )
    if progress is not None:
        progress(total)
    return IndexResult(entries, members, metadata, total, warns.finish(label))


def _xattrs(xattrs: dict[str, str | bytes]) -> dict[str, bytes]:
    """The extended attributes worth keeping: a real name, no NUL, MAX_XATTR_BYTES in all."""
    out: dict[str, bytes] = {}
    total = 0
    for k, v in xattrs.items():
        b = v if isinstance(v, bytes) else v.encode("utf-8", "surrogateescape")
        total += len(k) + len(b)
        if not k or "\x00" in k or total > MAX_XATTR_BYTES:
            continue
        out[k] = b
    return out


def iter_member_data(
    src: _Source,
    wanted: list[Entry],
    chunk: int = 1 << 20,
    label: str = "layer",
    path: str | os.PathLike[str] | None = None,
) -> Iterator[tuple[Entry, Iterator[bytes]]]:
    """For entries sorted by offset, yield each with an iterator over its stored bytes (one pass).

    An entry may appear once only. Raises CorruptArchive (naming ``label`` and ``path``) when the
    data is cut short."""
    for e in wanted:
        if e.offset < src.pos:
            raise ValueError("entries must be sorted by offset, each once")
        src.skip(e.offset - src.pos)
        stored = e.size
        if e.extra and "stored_size" in e.extra:
            stored = int(e.extra["stored_size"])  # type: ignore[call-overload]

        def body(n: int = stored) -> Iterator[bytes]:
            left = n
            while left > 0:
                b = src.read(min(chunk, left))
                if not b:
                    raise CorruptArchive(f"{label}: unexpected end of layer data", path)
                left -= len(b)
                yield b

        yield e, body()
