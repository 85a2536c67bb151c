"""One 512-byte tar header: its fields, its numbers (octal or GNU base-256), its checksum, its type.

A header is unpacked with ``HEADER`` into ``HeaderFields``; everything here is pure decoding, with no
knowledge of where the bytes come from or what follows them.
"""

from __future__ import annotations

import struct

from ..kinds import EntryType

BLOCK = 512
"""Tar reads and writes in blocks of this many bytes; member data is padded to a whole block."""

HEADER = struct.Struct("100s8s8s8s12s12s8sB100s6s2s32s32s8s8s155s")
"""name, mode, uid, gid, size, mtime, checksum, typeflag, linkname, magic, version, uname, gname,
devmajor, devminor, prefix (POSIX ustar; GNU tars use the same offsets up to the prefix)."""

# fmt: off
HeaderFields = tuple[
    bytes, bytes, bytes, bytes, bytes, bytes, bytes, int,
    bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes,
]
# fmt: on
"""The unpacked fields of one header, in ``HEADER``'s order (the typeflag as an int)."""

USTAR_MAGIC = b"ustar\x00"
"""POSIX ustar: the name may be split into prefix and name."""
GNU_MAGIC = b"ustar "
"""GNU tar's own format (``ustar`` plus a space): no prefix field."""

PAX_LOCAL = ord("x")
"""PAX records for the next member."""
PAX_GLOBAL = ord("g")
"""PAX records for every member after it."""
GNU_LONGNAME = ord("L")
"""GNU: the next member's name, as data."""
GNU_LONGLINK = ord("K")
"""GNU: the next member's link target, as data."""
GNU_SPARSE = ord("S")
"""Old GNU sparse file: its map is in the header (and extension blocks after it)."""
EXTENDED = frozenset({PAX_LOCAL, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK})
"""Type flags of headers that describe the next member instead of being one."""
IGNORED = frozenset({ord("V"), ord("M"), ord("N"), ord("D")})
"""Volume label, multi-volume continuation, old GNU long names, dump directory: skipped."""

TYPES: dict[int, EntryType] = {
    ord("0"): EntryType.FILE,
    0: EntryType.FILE,  # pre-POSIX tars
    ord("7"): EntryType.FILE,  # contiguous file
    ord("1"): EntryType.HARDLINK,
    ord("2"): EntryType.SYMLINK,
    ord("3"): EntryType.CHAR,
    ord("4"): EntryType.BLOCK,
    ord("5"): EntryType.DIR,
    ord("6"): EntryType.FIFO,
    GNU_SPARSE: EntryType.FILE,
}
"""Tar type flag -> the entry type LayerScope keeps. Unknown flags are files, as POSIX asks."""

PLAIN_TYPES: dict[int, EntryType] = {k: v for k, v in TYPES.items() if k != GNU_SPARSE and not v.is_device}
"""The type flags whose header alone says everything (no device numbers, no sparse map)."""


def number(field: bytes) -> int:
    """A numeric field: octal text, or GNU base-256 when the top bit is set. Raises ValueError."""
    if field and field[0] & 0x80:
        if field[0] == 0xFF:  # negative, two's complement
            return int.from_bytes(field, "big", signed=True)
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    s = field.split(b"\0", 1)[0].strip()
    if not s:
        return 0
    return int(s, 8)


def cstr(field: bytes) -> bytes:
    """A NUL-terminated field without its terminator (the whole field when it has none)."""
    i = field.find(0)
    return field if i < 0 else field[:i]


def text(raw: bytes) -> str:
    """Name bytes as text; bytes that are not UTF-8 survive as surrogate escapes."""
    return raw.decode("utf-8", "surrogateescape")


def checksum_ok(hdr: bytes) -> bool:
    """True when the header's checksum field matches (signed or unsigned sum, as tar allows)."""
    try:
        stored = number(hdr[148:156])
    except ValueError:
        return False
    unsigned = sum(hdr[:148]) + 256 + sum(hdr[156:])
    if stored == unsigned:
        return True
    signed = sum((b - 256 if b > 127 else b) for b in hdr[:148] + hdr[156:]) + 256
    return stored == signed


def header_name(name: bytes, prefix: bytes, ustar: bool) -> str:
    """The member name a header spells: ustar's prefix and name joined, else the name field."""
    return text(prefixed_name(name, prefix) if ustar and prefix[0] else cstr(name))


def prefixed_name(name: bytes, prefix: bytes) -> bytes:
    """The bytes of a ustar name split into prefix and name, joined again."""
    return cstr(prefix) + b"/" + cstr(name)


def device(major: bytes, minor: bytes) -> tuple[int, int]:
    """(major, minor) of a device header; (0, 0) when either field is not a number."""
    try:
        return number(major), number(minor)
    except ValueError:
        return 0, 0


def padded(size: int) -> int:
    """``size`` rounded up to whole blocks: what the member's data occupies in the tar."""
    return (size + BLOCK - 1) & -BLOCK
