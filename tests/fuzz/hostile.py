"""Hostile members to splice into a layer: escapes by name or link, link loops, huge or deep names, broken
PAX and GNU records, devices, sparse files, odd whiteouts, duplicates, awkward bytes.

Kind ``k`` (``0 <= k < INJECT_KINDS``) is one idea; the seed varies sizes and picks within it.
"""

from __future__ import annotations

import random
import tarfile

from tests.fuzz.tarfmt import fix_checksum, pax, pax_records, raw_header
from tests.fuzz.tarfmt import member_bytes as _member

#: How many kinds :func:`hostile_members` knows (the last one is the default).
INJECT_KINDS = 25


def hostile_members(kind: int, seed: int) -> bytes:
    """Tar bytes of hostile members to splice into a layer (INJECT_KINDS kinds)."""
    rng = random.Random(seed)
    sym, lnk, chr_, dir_ = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.DIRTYPE
    if kind == 0:
        return _member("../../outside/pwn", b"pwned") + _member("a/../../../outside/pwn2", b"x")
    if kind == 1:
        return _member("/outside/abs", b"pwned")
    if kind == 2:
        return _member("evil", type=sym, linkname="/outside") + _member("evil/pwn", b"pwned")
    if kind == 3:
        return _member("rel", type=sym, linkname="../../../../outside") + _member("rel/pwn", b"pwned")
    if kind == 4:
        return _member("h", type=lnk, linkname="../../outside/canary") + _member(
            "h2", type=lnk, linkname="/etc"
        )
    if kind == 5:
        return _member("l1", type=lnk, linkname="l2") + _member("l2", type=lnk, linkname="l1")
    if kind == 6:
        return (
            _member("dd", type=dir_)
            + _member("hd", type=lnk, linkname="dd")
            + _member("hd2", type=lnk, linkname="hd")
        )
    if kind == 7:
        return _member("x" * 65536, b"long")
    if kind == 8:
        return _member("a/" * rng.choice([300, 2048, 4096]) + "f", b"deep")
    if kind == 9:
        recs = [
            b"mtime=1e400",
            b"size=-1",
            b"size=99999999999999",
            b"uid=abc",
            b"uid=-5",
            b"uid=99999999999999999999",
            b"mtime=nan",
            b"mtime=-1e300",
            b"path=x\0y",
            b"linkpath=",
            b"path=",
            b"path=" + b"a/" * 3000,
            b"uname=" + b"u" * 10000,
            b"SCHILY.xattr.user.\0x=v",
            b"SCHILY.xattr.=v",
            b"SCHILY.xattr.trusted.big=" + b"v" * 70000,
            b"GNU.sparse.major=1",
            b"GNU.sparse.realsize=99999999999",
            b"GNU.sparse.size=-4",
            b"size=1e30",
        ]
        picked = rng.sample(recs, rng.randint(1, 3))
        return pax(picked, raw_header(b"paxfile", b"0", b"data" * rng.randint(0, 300)))
    if kind == 10:
        return raw_header(b"dev", b"3", b"", devmajor=b"\x80" + b"\xff" * 7, devminor=b"\xff" * 8) + _member(
            "dev2", type=chr_, devmajor=0o7777777, devminor=0o7777777
        )
    if kind == 11:
        return (
            raw_header(b"fifo", b"6", b"")
            + raw_header(b"contig", b"7", b"abc")
            + raw_header(b"unknown", b"Z", b"zz")
            + raw_header(b"volhdr", b"V", b"")
        )
    if kind == 12:
        return _member("x", type=dir_) + _member("x", b"file") + _member("x/y", b"under a file")
    if kind == 13:
        return b"".join(
            _member(n)
            for n in (".wh..wh..opq", ".wh..", ".wh.", "a/.wh...", "./.wh.x", "/.wh..wh..opq", "b/.wh..wh..x")
        )
    if kind == 14:
        return _member("dup", b"1") * 3 + _member("dup", b"22")
    if kind == 15:
        name = b"L" * rng.choice([200, 5000, 70000])
        return (
            raw_header(b"././@LongLink", b"L", name + b"\0")
            + raw_header(b"././@LongLink", b"K", b"../../outside\0")
            + raw_header(b"short", b"2", b"")
        )
    if kind == 16:
        sparse = b"%011o\0%011o\0" % (0, 4) + b"%011o\0%011o\0" % (1 << 20, 4)
        ext = rng.random() < 0.5
        hdr = bytearray(
            raw_header(
                b"sparse", b"S", b"abcdefgh", sparse=sparse + bytes(96 - 48) + (b"\1" if ext else b"\0")
            )
        )
        hdr[483:495] = b"%011o\0" % ((1 << 20) + 4)
        fix_checksum(hdr, 0)
        if ext:
            blk = bytearray(512)
            blk[0:24] = b"%011o\0%011o\0" % (99, 1 << 40)
            blk[504] = rng.choice([0, 1])
            return bytes(hdr[:512]) + bytes(blk) + bytes(hdr[512:])
        return bytes(hdr)
    if kind == 17:
        g = pax_records([b"path=global", b"mtime=1e999"][: rng.randint(1, 2)])
        return raw_header(b"global", b"g", g) + _member("after-global", b"x")
    if kind == 18:
        return pax([b"linkpath=/outside\0/pwn"], raw_header(b"nulsym", b"2", b""))
    if kind == 19:
        return b"".join(_member(f"many/{i}") for i in range(rng.choice([100, 2000])))
    if kind == 20:
        return pax([b"path=" + b"/".join(b"c%d" % i for i in range(4096))], raw_header(b"x", b"5", b""))
    if kind == 21:
        recs = [
            b"GNU.sparse.major=1",
            b"GNU.sparse.minor=0",
            b"GNU.sparse.name=sp",
            b"GNU.sparse.realsize=64",
        ]
        maps = [b"2\n0\n4\n32\n4\n", b"1\n0\n", b"x\ny\n", b"-1\n", b"3\n0\n99999999999\n", b"1\n0\n9000\n"]
        body = rng.choice(maps)
        body = body + bytes(-len(body) % 512) + b"AAAABBBB"
        return pax(recs, raw_header(b"GNUSparseFile.0/sp", b"0", body))
    if kind == 22:
        return _member("s", type=sym, linkname="s") + _member("s/x", b"through a self link")
    if kind == 23:  # the layer export writes its own WHITEOUTS.txt: never through the image's
        return _member(
            "WHITEOUTS.txt", type=sym, linkname=rng.choice(["/outside/canary", "../../outside/x"])
        ) + (_member(".wh.gone"))
    # the last kind: a name with every awkward byte
    return _member("".join(chr(c) for c in range(1, 128) if chr(c) != "/") + "\udcff", b"odd")
