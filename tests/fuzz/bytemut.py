"""Byte-level mutations of a tar stream or of any file: header fields altered (checksum fixed or not),
bytes flipped, the data cut, blocks zeroed.

A byte op is a JSON list, one of::

    ["hdr" | "ihdr", which_header, field_name, how (0..13), fix_checksum, seed]
    ["flip", at, n_bytes, seed]
    ["trunc", at]
    ["zero", at, n_bytes]

Every number is reduced modulo whatever it indexes, so any op applies to any data.
"""

from __future__ import annotations

import random
from typing import Any

from tests.fuzz.tarfmt import FIELDS, fix_checksum, header_offsets, octal

#: How many ways :func:`field_value` has to change a header field.
FIELD_HOWS = 14

_HOSTILE_NAMES = [
    b"../../outside/pwn",
    b"/outside/abs",
    b".wh..wh..opq",
    b".wh.",
    b"a/../../x",
    b".",
    b"..",
    b"\xff\xfe/\x01",
    b"",
    b"etc/passwd",
    b"blobs/sha256/",
    b"manifest.json",
]


def rbytes(seed: int, n: int) -> bytes:
    """``n`` pseudo-random bytes drawn from ``seed``."""
    return random.Random(seed).randbytes(n)


def field_value(how: int, length: int, old: bytes, seed: int) -> bytes:
    """A new value, exactly ``length`` bytes, for a header field that holds ``old``."""
    values = {
        0: rbytes(seed, length),
        1: b"7" * (length - 1) + b"\0",
        2: b"\x80" + b"\xff" * (length - 1),
        3: b"\xff" * length,
        4: bytes(length),
        5: b" " * length,
        6: b"7" * length,
        7: b"12x4\0",
        8: bytes([random.Random(seed).choice(b"0123456789xgLKSAVMNDZ\0\xff")]),
        9: b"-1\0",
        10: random.Random(seed).choice(_HOSTILE_NAMES),
        11: b"%o\0" % max(0, octal(old) + random.Random(seed).choice([-513, -1, 1, 511, 512, 1 << 20])),
        12: b"%o\0" % ((1 << (3 * max(length - 1, 1))) - 1),
        13: b"+1\0",
    }
    v = values[how]
    return (v + bytes(length))[:length] if len(v) < length else v[:length]


def apply_byte_ops(data: bytes, ops: list[list[Any]]) -> bytes:
    """``data`` with the byte ops applied in order."""
    buf = bytearray(data)
    for op in ops:
        kind = op[0]
        if not buf:
            break
        if kind in ("hdr", "ihdr"):
            offs = header_offsets(buf)
            if not offs:
                continue
            _k, which, fname, how, fix, seed = op
            pos = offs[which % len(offs)]
            start, length = FIELDS[fname]
            old = bytes(buf[pos + start : pos + start + length])
            buf[pos + start : pos + start + length] = field_value(how, length, old, seed)
            if fix and fname != "chksum":
                fix_checksum(buf, pos)
        elif kind == "flip":
            _k, at, n, seed = op
            at %= len(buf)
            noise = rbytes(seed, n)
            for i, b in enumerate(noise):
                if at + i < len(buf):
                    buf[at + i] ^= b or 0xFF
        elif kind == "trunc":
            del buf[op[1] % len(buf) :]
        elif kind == "zero":
            at = op[1] % len(buf)
            buf[at : at + op[2]] = bytes(len(buf[at : at + op[2]]))
    return bytes(buf)
