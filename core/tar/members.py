"""The real members of a tar, one by one: extended headers applied, data skipped.

``Members`` walks the headers of a source. Extended headers (PAX, GNU long names) and skipped
types never come out: each member that does carries its name and link as the tar finally spells
them, its numbers and extras after the PAX records, and where its data starts. Its data has been
skipped by the time it comes out (a large one in steps, with progress and a chance to cancel).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ..entry import EntryExtra, SparseMap
from ..errors import CorruptArchive
from ..kinds import EntryType
from ..limits import MAX_EXTENDED_HEADER, MAX_XATTR_BYTES, SKIP_STEP
from ..progress import BytesProgress, CancelCheck, check_cancelled
from .extended import PaxRecords, Pending, pax_int, pax_xattrs
from .header import (
    EXTENDED,
    GNU_MAGIC,
    GNU_SPARSE,
    IGNORED,
    PLAIN_TYPES,
    TYPES,
    USTAR_MAGIC,
    HeaderFields,
    checksum_ok,
    cstr,
    device,
    header_name,
    number,
    padded,
    prefixed_name,
    text,
)
from .source import Source
from .sparse import gnu_map, pax_map_01, pax_map_10
from .warnings import LayerWarnings


class Member(NamedTuple):
    """One real member of a tar, as its headers describe it (nothing checked or normalised yet)."""

    name: str
    """The name as the tar spells it (PAX ``path``, GNU long name, or the header's)."""
    type: EntryType
    size: int
    """The file's size; for a sparse file its full size, holes included."""
    mode: int
    uid: int
    gid: int
    mtime: int
    link: str | None
    offset: int
    """Where the member's stored data starts in the uncompressed stream."""
    extra: EntryExtra | None


def skip_data(src: Source, n: int, progress: BytesProgress | None, cancelled: CancelCheck | None) -> int:
    """Skip ``n`` bytes of member data, a large member in steps with progress and a cancel check in
    between; return how many were there. Raises Cancelled."""
    if n <= SKIP_STEP:
        return src.skip(n)
    done = 0
    while done < n:
        step = min(SKIP_STEP, n - done)
        got = src.skip(step)
        done += got
        if got < step:
            break
        check_cancelled(cancelled)
        if progress is not None:
            progress(src.pos)
    return done


class Members:
    """The real members of the tar in ``src``, in order (iterate once).

    Raises CorruptArchive (naming ``label``) for a bad header or data cut short; other oddities are
    warnings in ``warnings``. ``clean_end`` tells, once the iteration is over, whether the tar ended
    with an end-of-archive block rather than just stopping.
    """

    def __init__(
        self,
        src: Source,
        warnings: LayerWarnings,
        progress: BytesProgress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> None:
        self.src = src
        self.warnings = warnings
        self.label = warnings.label
        self.progress = progress
        self.cancelled = cancelled
        self.clean_end = False
        self._owners: dict[tuple[bytes, bytes], EntryExtra] = {}

    def __iter__(self) -> Iterator[Member]:
        src = self.src
        header = src.header
        plain = PLAIN_TYPES
        new = tuple.__new__  # Member(...) without NamedTuple's Python-level __new__: 10% of the index time
        pending = Pending()
        first = True
        while True:
            hdr_pos = src.pos
            fields = header()
            if fields is None:
                return
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
                _major,
                _minor,
                f_prefix,
            ) = fields
            if not f_name[0] and not tflag and src.is_zero(hdr_pos):
                self.clean_end = True
                return
            ustar = magic == USTAR_MAGIC
            if (first or not (ustar or magic == GNU_MAGIC)) and not checksum_ok(src.raw(hdr_pos)):
                raise self._bad_header(hdr_pos, first)
            first = False
            try:
                size = int(f_size[:-1], 8)
                mode = int(f_mode[:-1], 8) & 0o7777
                uid = int(f_uid[:-1], 8)
                gid = int(f_gid[:-1], 8)
                mtime = int(f_mtime[:-1], 8)
            except ValueError:  # base-256, NUL-filled or unterminated fields: the careful decoder
                size, mode, uid, gid, mtime = self._numbers(fields, hdr_pos)
            if size < 0:
                raise CorruptArchive(f"{self.label}: negative member size at byte {hdr_pos}")
            if tflag in EXTENDED:
                pending.add(tflag, self._extended_data(size, hdr_pos))
                continue
            if tflag in IGNORED:
                if skip_data(src, padded(size), self.progress, self.cancelled) < size:
                    raise CorruptArchive(f"{self.label}: truncated member at byte {hdr_pos}")
                pending.clear()
                continue
            etype = plain.get(tflag)
            if etype is not None and not pending.active:  # the header says everything
                nm = cstr(f_name) if not (ustar and f_prefix[0]) else prefixed_name(f_name, f_prefix)
                name = text(nm)
                link = text(cstr(f_link)) if f_link[0] else None
                extra = self._owner_names(fields) if f_uname[0] or f_gname[0] else None
                stored = size
                pad = (size + 511) & ~511  # padded(size), in line
            else:
                d = self._described(fields, hdr_pos, size, uid, gid, mtime, pending.take())
                name, etype, link, extra = d.name, d.type, d.link, d.extra()
                size, uid, gid, mtime, stored, pad = d.size, d.uid, d.gid, d.mtime, d.stored, d.padded
            offset = src.pos
            if stored:
                self._skip(name, stored, pad)
            yield new(Member, (name, etype, size, mode, uid, gid, mtime, link, offset, extra))

    # ---- the parts of a header that need more care -------------------------------------------------
    def _bad_header(self, pos: int, first: bool) -> CorruptArchive:
        if first:
            return CorruptArchive(f"{self.label}: not a tar archive (bad header checksum at byte {pos})")
        return CorruptArchive(f"{self.label}: corrupt tar header at byte {pos}")

    def _numbers(self, fields: HeaderFields, pos: int) -> tuple[int, int, int, int, int]:
        """(size, mode, uid, gid, mtime) of a header whose fields are not plain octal."""
        f_mode, f_uid, f_gid, f_size, f_mtime = fields[1:6]
        try:
            return number(f_size), number(f_mode) & 0o7777, number(f_uid), number(f_gid), number(f_mtime)
        except ValueError as exc:
            raise CorruptArchive(f"{self.label}: corrupt tar header at byte {pos}") from exc

    def _extended_data(self, size: int, pos: int) -> bytes:
        """The data of an extended header, its padding skipped."""
        if size > MAX_EXTENDED_HEADER:
            raise CorruptArchive(f"{self.label}: extended header of {size} bytes at byte {pos} is too large")
        data = self.src.read(size)
        if len(data) < size:
            raise CorruptArchive(f"{self.label}: truncated extended header at byte {pos}")
        self.src.skip(padded(size) - size)
        return data

    def _skip(self, name: str, stored: int, pad: int) -> None:
        """Skip a member's data (``stored`` bytes, ``pad`` with the padding)."""
        got = skip_data(self.src, pad, self.progress, self.cancelled)
        if got < stored:
            raise CorruptArchive(
                f"{self.label}: {name[:200]!r} claims {stored} bytes but the stream ends after {got}"
            )
        if got < pad:
            self.warnings.add("padding", f"the last member {name[:200]!r} lacks its tar padding")

    def _owner_names(self, fields: HeaderFields) -> EntryExtra:
        """The header's user and group names (one shared value per pair: most members repeat one)."""
        key = (fields[11], fields[12])
        extra = self._owners.get(key)
        if extra is None:
            extra = EntryExtra(uname=text(cstr(key[0])), gname=text(cstr(key[1])))
            self._owners[key] = extra
        return extra

    def _described(
        self,
        fields: HeaderFields,
        pos: int,
        size: int,
        uid: int,
        gid: int,
        mtime: int,
        extended: tuple[PaxRecords | None, str | None, str | None],
    ) -> _Draft:
        """A member that extended headers describe, or whose type needs more than the header."""
        pax, long_name, long_link = extended
        tflag = fields[7]
        d = _Draft(_name(fields, pax, long_name), _link(fields, pax, long_link), size, uid, gid, mtime)
        etype = TYPES.get(tflag)
        if etype is None:
            # Unknown type flags are treated as regular files, as POSIX asks.
            self.warnings.add(
                "unknown tar types", f"{d.name[:200]!r} has unknown tar type {chr(tflag)!r}; read as a file"
            )
            etype = EntryType.FILE
        d.type = etype
        gnu = gnu_map(self.src.raw(pos), self.src, d.name[:200]) if tflag == GNU_SPARSE else None
        if fields[11][0] or fields[12][0]:  # PAX records may override them
            owners = self._owner_names(fields)
            d.uname, d.gname = owners.uname, owners.gname
        if pax:
            self._apply_pax(d, pax, pos)
            if gnu is None and ("GNU.sparse.realsize" in pax or "GNU.sparse.size" in pax):
                self._pax_sparse(d, pax)
        if gnu is not None:  # the map and full size are in the header; what it stores, its size field
            d.set_sparse(*gnu, stored=size)
        if etype.is_device:
            d.devmajor, d.devminor = device(fields[13], fields[14])
        return d

    def _apply_pax(self, d: _Draft, pax: PaxRecords, pos: int) -> None:
        """PAX records over the header's fields: size, ids, time, extended attributes, owner names."""
        if "size" in pax:
            d.size = d.stored = pax_int(pax, "size", d.size)
            if d.size < 0:
                raise CorruptArchive(f"{self.label}: negative member size in the PAX header at byte {pos}")
            d.padded = padded(d.size)
        d.uid = pax_int(pax, "uid", d.uid)
        d.gid = pax_int(pax, "gid", d.gid)
        d.mtime = pax_int(pax, "mtime", d.mtime)
        xattrs, dropped = pax_xattrs(pax)
        if dropped:
            self.warnings.add(
                "extended attributes",
                f"{d.name[:200]!r}: {dropped} extended attribute(s) with an empty or NUL-holding name, "
                f"or beyond {MAX_XATTR_BYTES} bytes, left out",
            )
        if xattrs:
            d.xattrs = xattrs
        if "uname" in pax:
            d.uname = str(pax["uname"])[:256]
        if "gname" in pax:
            d.gname = str(pax["gname"])[:256]
        if "GNU.sparse.name" in pax:
            d.name = str(pax["GNU.sparse.name"])

    def _pax_sparse(self, d: _Draft, pax: PaxRecords) -> None:
        """A PAX sparse file (1.0: the map heads the data; 0.1: a record; 0.0 or none: no usable map)."""
        size = d.size
        realsize = pax_int(pax, "GNU.sparse.realsize", pax_int(pax, "GNU.sparse.size", size))
        name = d.name[:200]
        if realsize < 0:
            raise CorruptArchive(f"{self.label}: negative sparse file size of {name!r}")
        if pax.get("GNU.sparse.major") == "1":
            smap, used = pax_map_10(self.src, name, max(1, size // 16 + 1), size)
            d.stored = size - used
            d.padded -= used
        elif "GNU.sparse.map" in pax:
            smap = pax_map_01(str(pax["GNU.sparse.map"]), name)
        else:  # 0.0 (offset/numbytes repeated: only the last survives) or no map at all
            self.warnings.add(
                "sparse",
                f"sparse file {name!r} without a usable map; its stored bytes are read as its beginning",
            )
            smap = ((0, min(d.stored, realsize)),)
        d.set_sparse(smap, realsize, d.stored)


def _name(fields: HeaderFields, pax: PaxRecords | None, long_name: str | None) -> str:
    """The member's name: PAX ``path``, else the GNU long name, else the header's own."""
    if pax and "path" in pax:
        return str(pax["path"])
    if long_name is not None:
        return long_name
    return header_name(fields[0], fields[15], fields[9] == USTAR_MAGIC)


def _link(fields: HeaderFields, pax: PaxRecords | None, long_link: str | None) -> str | None:
    """The member's link target: PAX ``linkpath``, else the GNU long link, else the header's own."""
    if pax and "linkpath" in pax:
        return str(pax["linkpath"])
    if long_link is not None:
        return long_link
    return text(cstr(fields[8])) if fields[8][0] else None


@dataclass(slots=True)
class _Draft:
    """A member being described by more than its header (PAX records, a sparse map, a device)."""

    name: str
    link: str | None
    size: int
    uid: int
    gid: int
    mtime: int
    type: EntryType = EntryType.FILE
    stored: int = -1
    """Bytes of data after the header (and after a PAX 1.0 sparse map): what the layer stores."""
    padded: int = -1
    """Bytes still to skip, padding included."""
    xattrs: dict[str, bytes] | None = None
    uname: str | None = None
    gname: str | None = None
    devmajor: int | None = None
    devminor: int | None = None
    sparse: SparseMap | None = None
    stored_size: int | None = None

    def __post_init__(self) -> None:
        self.stored = self.size
        self.padded = padded(self.size)

    def set_sparse(self, smap: SparseMap, realsize: int, stored: int) -> None:
        """The member is a sparse file of ``realsize`` bytes storing ``stored`` bytes of extents."""
        self.sparse = smap
        self.stored_size = stored
        self.size = realsize

    def extra(self) -> EntryExtra | None:
        """The extras found, or None when there are none."""
        if (
            self.xattrs is None
            and self.uname is None
            and self.gname is None
            and self.devmajor is None
            and self.sparse is None
        ):
            return None
        return EntryExtra(
            self.xattrs, self.uname, self.gname, self.devmajor, self.devminor, self.sparse, self.stored_size
        )
