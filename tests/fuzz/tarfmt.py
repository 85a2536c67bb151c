"""Tar format at the byte level: header field offsets, header walking, hand-made headers and PAX records.

These write what :mod:`tarfile` refuses to write (bad type flags, hostile fields), and find the headers
of a tar stream without parsing it, so that mutations can aim at them.
"""

from __future__ import annotations

import tarfile
from typing import Any

#: ustar header fields: name -> (offset, length) in the 512-byte header block.
FIELDS: dict[str, tuple[int, int]] = {
    "name": (0, 100),
    "mode": (100, 8),
    "uid": (108, 8),
    "gid": (116, 8),
    "size": (124, 12),
    "mtime": (136, 12),
    "chksum": (148, 8),
    "typeflag": (156, 1),
    "linkname": (157, 100),
    "magic": (257, 6),
    "version": (263, 2),
    "uname": (265, 32),
    "gname": (297, 32),
    "devmajor": (329, 8),
    "devminor": (337, 8),
    "prefix": (345, 155),
    "sparse": (386, 126),
}
FIELD_NAMES: list[str] = list(FIELDS)


def header_offsets(data: bytes | bytearray, limit: int = 100000) -> list[int]:
    """Offsets of the tar headers in ``data`` (stops at the end marker or at anything odd)."""
    out: list[int] = []
    pos = 0
    while pos + 512 <= len(data) and len(out) < limit:
        blk = data[pos : pos + 512]
        if not any(blk):
            break
        out.append(pos)
        raw = bytes(blk[124:136]).split(b"\0", 1)[0].strip()
        try:
            size = int(raw, 8) if raw else 0
        except ValueError:
            break
        pos += 512 + ((size + 511) & ~511)
    return out


def fix_checksum(buf: bytearray, pos: int) -> None:
    """Recompute the checksum of the header at ``pos`` in ``buf``, in place."""
    hdr = buf[pos : pos + 512]
    hdr[148:156] = b" " * 8
    buf[pos + 148 : pos + 156] = b"%06o\0 " % sum(hdr)


def octal(field: bytes) -> int:
    """The number in an octal header field (0 when it is empty or not a number)."""
    s = field.split(b"\0", 1)[0].strip()
    try:
        return int(s, 8) if s else 0
    except ValueError:
        return 0


def member_bytes(name: str, data: bytes = b"", **kw: Any) -> bytes:
    """One PAX-format member written by :mod:`tarfile` (``kw`` sets TarInfo attributes), with its data."""
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + data + bytes(-len(data) % 512)


def raw_header(name: bytes, typeflag: bytes, data: bytes, **fields: bytes) -> bytes:
    """A ustar header written by hand (for what tarfile refuses to write), with its data."""
    h = bytearray(512)
    h[0 : len(name[:100])] = name[:100]
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % len(data)
    h[136:148] = b"14544762400\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    for fname, value in fields.items():
        start, length = FIELDS[fname]
        h[start : start + length] = (value + bytes(length))[:length]
    fix_checksum(h, 0)
    return bytes(h) + data + bytes(-len(data) % 512)


def pax_records(records: list[bytes]) -> bytes:
    """The body of a PAX header: ``"<length> <key>=<value>\\n"`` for each record."""
    body = b""
    for rec in records:
        n = len(rec) + 3
        while len(b"%d %s\n" % (n, rec)) != n:
            n += 1
        body += b"%d %s\n" % (n, rec)
    return body


def pax(records: list[bytes], then: bytes) -> bytes:
    """A PAX extended header holding ``records``, followed by the member bytes ``then``."""
    return raw_header(b"PaxHeaders/x", b"x", pax_records(records)) + then
