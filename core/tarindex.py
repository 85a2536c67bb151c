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

import posixpath
import struct
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .errors import Cancelled, CorruptArchive

BLOCK = 512
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
    v = pax.get(key)
    if v is None:
        return default
    try:
        return int(float(v)) if isinstance(v, str) else default
    except ValueError:
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

    def drain(self) -> int:
        """Skip to the end; return the total stream length."""
        raise NotImplementedError


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
        a = self.base + self.pos
        b = a + n
        if b > self.end:
            b = max(a, self.end)
        self.pos += b - a
        if self._release is not None and self.pos - self._released >= self.RELEASE_EVERY:
            self._maybe_release()
        return b - a

    def drain(self) -> int:
        self.pos = self.end - self.base
        if self._release is not None:
            self._release(self.base + self._released, self.end)
        return self.pos


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

    def drain(self) -> int:
        self.pos += len(self._buf) - self._i
        self._buf = b""
        self._i = 0
        while True:
            chunk = self._read(self.CHUNK * 4)
            if not chunk:
                break
            self.pos += len(chunk)
        self._eof = True
        return self.pos


def _gnu_sparse_map(hdr: bytes, src: _Source, name: str) -> tuple[list[tuple[int, int]], int]:
    """Old GNU sparse: the map in the header (4 slots) and extension blocks. Returns (map, realsize)."""
    smap: list[tuple[int, int]] = []

    def slots(area: bytes, count: int) -> None:
        for k in range(count):
            off = _num(area[k * 24 : k * 24 + 12])
            ln = _num(area[k * 24 + 12 : k * 24 + 24])
            if off or ln:
                smap.append((off, ln))

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
    return smap, realsize


def _pax_sparse_map(src: _Source, name: str, limit: int) -> tuple[list[tuple[int, int]], int]:
    """PAX sparse 1.0: decimal map at the start of the data, padded to a block. Returns (map, bytes used)."""
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
            except ValueError as exc:
                raise CorruptArchive(f"bad sparse map of {name!r}") from exc
            if count < 0 or count > limit:
                raise CorruptArchive(f"bad sparse map of {name!r}")
            if len(nums) - 1 > 2 * count:
                vals = [int(x) for x in nums[1 : 1 + 2 * count]]
                return [(vals[2 * k], vals[2 * k + 1]) for k in range(count)], used
        if used > 1 << 24:
            raise CorruptArchive(f"sparse map of {name!r} is too large")


def read_entries(
    src: _Source,
    *,
    estargz: bool = False,
    overlay: bool = True,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    label: str = "layer",
) -> IndexResult:
    """Index every member of the tar in ``src``.

    Raises CorruptArchive for a damaged tar (bad header, data cut short); a missing end-of-archive
    marker or missing final padding (umoci 0.4.7 ``insert``) is a warning, not an error.
    """
    entries: list[Entry] = []
    metadata: list[Entry] = []
    warnings: list[str] = []
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
            if src.skip(padded) < size:
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
            warnings.append(f"{label}: {raw_name!r} has unknown tar type {chr(tflag)!r}; read as a file")
            etype = "file"
        if tflag == _GNU_SPARSE:
            smap, realsize = _gnu_sparse_map(src.raw(hdr_pos), src, raw_name)
            extra = {"sparse": smap, "stored_size": size}
        if p:
            if "size" in p:
                size = _pax_int(p, "size", size)
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
                extra = extra or {}
                extra["xattrs"] = {k: (v if isinstance(v, bytes) else v.encode()) for k, v in xattrs.items()}
            for k in ("uname", "gname"):
                if k in p:
                    extra = extra or {}
                    extra[k] = p[k]
            if "GNU.sparse.name" in p:
                raw_name = str(p["GNU.sparse.name"])
        data_size = size
        if tflag == _GNU_SPARSE:
            size = realsize
        elif p and ("GNU.sparse.realsize" in p or "GNU.sparse.size" in p):
            realsize = _pax_int(p, "GNU.sparse.realsize", _pax_int(p, "GNU.sparse.size", size))
            extra = extra or {}
            if p.get("GNU.sparse.major") == "1":
                smap, used = _pax_sparse_map(src, raw_name, max(1, size // 16 + 1))
                extra["sparse"] = smap
                data_size = size - used
                padded -= used
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
            got = src.skip(padded)
            if got < data_size:
                raise CorruptArchive(
                    f"{label}: {raw_name!r} claims {data_size} bytes but the stream ends after {got}"
                )
            if got < padded:
                warnings.append(f"{label}: the last member {raw_name!r} lacks its tar padding")

        path = normalize(raw_name)
        if path is None:
            unsafe += 1
            if unsafe <= 20:
                warnings.append(f"{label}: {raw_name!r} points outside the image root; ignored")
            continue
        if raw_name != path and raw_name.rstrip("/") not in (path, "./" + path, "/" + path):
            extra = extra or {}
            extra["raw_name"] = raw_name
        if link is not None and etype == "hardlink":
            nlink = normalize(link)
            if nlink is None or nlink == "":
                unsafe += 1
                if unsafe <= 20:
                    warnings.append(
                        f"{label}: hardlink {raw_name!r} -> {link!r} points outside the image; ignored"
                    )
                continue
            link = nlink
        if not path:
            continue  # the root directory itself
        slash = path.rfind("/")
        base = path[slash + 1 :]
        if overlay and base.startswith(".wh."):
            parent = path[:slash] if slash >= 0 else ""
            if base == OPAQUE_MARKER:
                append(Entry(parent, "opaque", 0, mode, uid, gid, mtime, None, data_off, None))
            elif base.startswith(".wh..wh."):
                metadata.append(Entry(path, "file", size, mode, uid, gid, mtime, None, data_off, extra))
            elif base == ".wh.":
                warnings.append(f"{label}: invalid bare whiteout {raw_name!r}; ignored")
            else:
                target = base[4:]
                wpath = f"{parent}/{target}" if parent else target
                if target in (".", ".."):
                    warnings.append(f"{label}: invalid whiteout {raw_name!r}; ignored")
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
            if cancelled is not None and cancelled():
                raise Cancelled()
            if progress is not None:
                progress(src.pos)
    if unsafe > 20:
        warnings.append(f"{label}: {unsafe} members in all point outside the image root; ignored")
    if not clean_end and (entries or metadata):
        warnings.append(f"{label}: the tar has no end-of-archive marker (read completely anyway)")
    total = src.drain()
    if progress is not None:
        progress(total)
    return IndexResult(entries, members, metadata, total, warnings)


def iter_member_data(
    src: _Source, wanted: list[Entry], chunk: int = 1 << 20
) -> Iterator[tuple[Entry, Iterator[bytes]]]:
    """For entries sorted by offset, yield each with an iterator over its stored bytes (one pass)."""
    for e in wanted:
        if e.offset < src.pos:
            raise ValueError("entries must be sorted by offset")
        src.skip(e.offset - src.pos)
        stored = e.size
        if e.extra and "stored_size" in e.extra:
            stored = int(e.extra["stored_size"])  # type: ignore[call-overload]

        def body(n: int = stored) -> Iterator[bytes]:
            left = n
            while left > 0:
                b = src.read(min(chunk, left))
                if not b:
                    raise CorruptArchive("unexpected end of layer data")
                left -= len(b)
                yield b

        yield e, body()
