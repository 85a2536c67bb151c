"""Fuzzing: mutated real archives never crash the engine, hang, use unbounded memory or write outside
the export folder.

A case is a small real archive (shared/corpus/real, shared/corpus/peer) or one made by the test-image
builder, changed by a random *plan*: tar header fields altered (checksum fixed or not), bytes
flipped, the file cut anywhere, JSON documents parsed and changed (keys removed, values retyped to
list/int/null/str/bool, huge numbers, deep nesting, invalid text), blobs swapped, dropped, duplicated
or turned into links, layers decompressed, damaged or given hostile members and compressed again,
the whole archive gzipped or zstd-compressed, or unpacked to a folder. The plan is plain JSON, so a
failure is reproduced from it (or from the case file the long run keeps).

Each case runs in a worker process, as the command line and the GUI would use the engine: open,
index every layer, merge (all and up to a lower layer), both sets of waste figures, the CLI's JSON
views, the GUI's views, file contents, verify, and exports (merged to a folder and to a .tar.gz, a
layer's own files, a layer as stored). Only LayerScopeError (one line, naming the file) is an
acceptable failure; anything else is a bug, and so are:

* a hang: the worker does not answer within ``timeout`` seconds (it is killed);
* memory: the worker runs with ``RLIMIT_AS`` (MemoryError, or death, is reported);
* a write outside the export folder: the case folder is checked after every case (a canary folder
  next to the export, the temporary folder, leftovers of the export's temporary siblings). When the
  tests run as root the worker is also chrooted into the case folder, so a bug cannot touch the
  machine.

The short run below is part of the test suite (deterministic, a few hundred cases);
``benchmarks/fuzz.py`` runs the same engine for as many cases as asked.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import json
import os
import random
import select
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PEER, REAL, ROOT, need_shared

GCR = "google__go-containerregistry/pkg/v1"
DIVE = "wagoodman__dive/.data"

# Small archives, so cases are fast; each brings something: layouts, compressions, links, whiteouts.
SEED_FILES = [
    ("real", "umoci-insert.oci.tar"),
    ("real", "umoci-insert.docker.tar"),
    ("real", "umoci-edge.oci.tar"),
    ("real", "umoci-edge.zstd.oci.tar"),
    ("peer", f"{GCR}/tarball/testdata/test_image_1.tar"),
    ("peer", f"{GCR}/tarball/testdata/test_link.tar"),
    ("peer", f"{GCR}/tarball/testdata/hello-world-v25.tar"),
    ("peer", f"{GCR}/mutate/testdata/whiteout_dir.tar"),
    ("peer", f"{GCR}/mutate/testdata/overwritten_file.tar"),
    ("peer", f"{DIVE}/test-oci-zstd-image.tar"),
    ("peer", f"{DIVE}/test-oci-estargz-image.tar"),
    ("peer", f"{DIVE}/test-oci-gzip-image.tar"),
    ("peer", "anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir"),
    ("peer", f"{GCR}/layout/testdata/test_index_one_image"),
]

DEST_NAMES = ("merged", "merged.tar.gz", "layer", "layer0", "stored.tar")


# ---- seeds ---------------------------------------------------------------------------------------
@dataclass
class Member:
    """One member of an archive being mutated: a tar header (TarInfo) and its data."""

    info: tarfile.TarInfo
    data: bytes = b""


@dataclass
class Seed:
    name: str
    members: list[Member]
    is_dir: bool = False


def _builder_seeds(dest: Path) -> list[tuple[str, Path]]:
    """Archives from the test-image builder with every entry kind the corpus lacks."""
    from tests.imagebuilder import Device, Dir, Fifo, File, Hardlink, Image, Layer, Opaque, Symlink, Whiteout
    from tests.imagebuilder import build as build_image

    long = "d/" + "n" * 120 + "/é-file.txt"
    img = Image(
        [
            Layer(
                [
                    Dir("etc"),
                    File("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                    File("etc/same", b"same"),
                    Dir("d"),
                    File(long, b"long", xattrs={"user.k": b"v\x00\xff"}),
                    Symlink("etc/link", "/etc/passwd"),
                    Symlink("up", "../../.."),
                    Hardlink("etc/hard", "etc/passwd"),
                    Device("dev-null", "char", 1, 3),
                    Fifo("fifo"),
                    Dir("opq"),
                    File("opq/old", b"old"),
                ],
                created_by="ADD rootfs",
            ),
            Layer(
                [
                    Whiteout("etc/passwd"),
                    Opaque("opq"),
                    File("opq/new", b"new"),
                    File("etc/same", b"same"),
                    File("d", b"a file over a folder"),
                    Hardlink("h2", "etc/hard"),
                ],
                created_by="RUN change",
            ),
        ],
        tags=["fuzz/rich:1"],
    )
    out = []
    for layout, comp, outer in (
        ("docker25", "gzip", "none"),
        ("podman", "zstd", "none"),
        ("oci-archive", "none", "none"),
        ("docker-legacy", "none", "none"),
    ):
        p = build_image(img, dest / f"rich-{layout}-{comp}.tar", layout, comp, outer)
        out.append((f"builder:{layout}-{comp}", p))
    return out


def read_tar(path: Path) -> list[Member]:
    out = []
    with tarfile.open(path) as tf:
        for ti in tf.getmembers():
            data = b""
            if ti.isfile():
                f = tf.extractfile(ti)
                assert f is not None
                data = f.read()
            out.append(Member(ti, data))
    return out


def read_dir(path: Path) -> list[Member]:
    out = []
    for p in sorted(path.rglob("*")):
        ti = tarfile.TarInfo(p.relative_to(path).as_posix())
        if p.is_dir():
            ti.type = tarfile.DIRTYPE
            out.append(Member(ti))
        else:
            data = p.read_bytes()
            ti.size = len(data)
            out.append(Member(ti, data))
    return out


def load_seeds(work: Path) -> list[Seed]:
    """Every seed, parsed into members (the corpus ones are skipped when it is absent)."""
    seeds = []
    work.mkdir(parents=True, exist_ok=True)
    for name, p in _builder_seeds(work):
        seeds.append(Seed(name, read_tar(p)))
    for where, rel in SEED_FILES:
        p = (REAL if where == "real" else PEER) / rel
        if p.is_dir():
            seeds.append(Seed(rel, read_dir(p), is_dir=True))
        elif p.is_file():
            seeds.append(Seed(rel, read_tar(p)))
    return seeds


# ---- plans ----------------------------------------------------------------------------------------
# A plan is JSON: {"seed": i, "ops": [...], "bytes": [...], "outer": ..., "post": [...], "dir": bool,
# "fork": bool}. Every number is reduced modulo whatever it indexes, so any plan applies to any seed.
JSON_HOWS = 20
INJECT_KINDS = 25
FIELDS = {
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
FIELD_NAMES = list(FIELDS)
RECOMPRESS = ["same", "same", "same", "none", "gzip", "zstd", "gzip-multi", "gzip-zeros", "gzip-garbage"]


def _big(rng: random.Random) -> int:
    return rng.randrange(1 << 32)


def _header_op(rng: random.Random, kind: str) -> list[Any]:
    return [kind, _big(rng), rng.choice(FIELD_NAMES), rng.randrange(14), rng.random() < 0.7, _big(rng)]


def _byte_ops(rng: random.Random, n: int, header_kind: str) -> list[list[Any]]:
    ops: list[list[Any]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            ops.append(_header_op(rng, header_kind))
        elif r < 0.75:
            ops.append(["flip", _big(rng), rng.choice([1, 1, 2, 4, 16]), _big(rng)])
        elif r < 0.9:
            ops.append(["trunc", _big(rng)])
        else:
            ops.append(["zero", _big(rng), rng.choice([1, 512, 1024, 4096])])
    return ops


def make_plan(rng: random.Random, n_seeds: int) -> dict[str, Any]:
    """A random mutation plan."""
    ops: list[list[Any]] = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        r = rng.random()
        if r < 0.3:
            ops.append(["json", _big(rng), _big(rng), rng.randrange(JSON_HOWS), _big(rng)])
        elif r < 0.65:
            inner = _byte_ops(rng, rng.choice([0, 1, 1, 2]), "ihdr")
            if rng.random() < 0.5:
                inner.insert(0, ["inject", _big(rng), rng.randrange(INJECT_KINDS), _big(rng)])
            ops.append(["layer", _big(rng), inner, rng.choice(RECOMPRESS), _big(rng)])
        elif r < 0.75:
            ops.append(["swap", _big(rng), _big(rng)])
        elif r < 0.82:
            ops.append(["drop", _big(rng)])
        elif r < 0.87:
            ops.append(["dup", _big(rng), rng.random() < 0.5])
        else:
            ops.append(["link", _big(rng), _big(rng), rng.randrange(6)])
    byte_ops = _byte_ops(rng, rng.choice([0, 0, 0, 1, 1, 2]), "hdr")
    outer = rng.choice(["none"] * 8 + ["gzip", "zstd"])
    post = _byte_ops(rng, rng.choice([0, 0, 1]), "hdr") if outer != "none" else []
    if not ops and not byte_ops and not post:
        ops.append(["json", _big(rng), _big(rng), rng.randrange(JSON_HOWS), _big(rng)])
    return {
        "seed": rng.randrange(n_seeds),
        "ops": ops,
        "bytes": byte_ops,
        "outer": outer,
        "post": post,
        "dir": rng.random() < 0.08,
        "fork": rng.random() < 0.1,
    }


# ---- applying a plan -------------------------------------------------------------------------------
def _rbytes(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


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


def _fix_checksum(buf: bytearray, pos: int) -> None:
    hdr = buf[pos : pos + 512]
    hdr[148:156] = b" " * 8
    buf[pos + 148 : pos + 156] = b"%06o\0 " % sum(hdr)


def _field_value(how: int, length: int, old: bytes, seed: int) -> bytes:
    hostile_names = [
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
    values = {
        0: _rbytes(seed, length),
        1: b"7" * (length - 1) + b"\0",
        2: b"\x80" + b"\xff" * (length - 1),
        3: b"\xff" * length,
        4: bytes(length),
        5: b" " * length,
        6: b"7" * length,
        7: b"12x4\0",
        8: bytes([random.Random(seed).choice(b"0123456789xgLKSAVMNDZ\0\xff")]),
        9: b"-1\0",
        10: random.Random(seed).choice(hostile_names),
        11: b"%o\0" % max(0, _octal(old) + random.Random(seed).choice([-513, -1, 1, 511, 512, 1 << 20])),
        12: b"%o\0" % ((1 << (3 * max(length - 1, 1))) - 1),
        13: b"+1\0",
    }
    v = values[how]
    return (v + bytes(length))[:length] if len(v) < length else v[:length]


def _octal(field: bytes) -> int:
    s = field.split(b"\0", 1)[0].strip()
    try:
        return int(s, 8) if s else 0
    except ValueError:
        return 0


def _apply_byte_ops(data: bytes, ops: list[list[Any]]) -> bytes:
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
            buf[pos + start : pos + start + length] = _field_value(how, length, old, seed)
            if fix and fname != "chksum":
                _fix_checksum(buf, pos)
        elif kind == "flip":
            _k, at, n, seed = op
            at %= len(buf)
            noise = _rbytes(seed, n)
            for i, b in enumerate(noise):
                if at + i < len(buf):
                    buf[at + i] ^= b or 0xFF
        elif kind == "trunc":
            del buf[op[1] % len(buf) :]
        elif kind == "zero":
            at = op[1] % len(buf)
            buf[at : at + op[2]] = bytes(len(buf[at : at + op[2]]))
    return bytes(buf)


def _tar_bytes(members: list[Member]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for m in members:
            ti = m.info
            if ti.isfile() or ti.type not in tarfile.SUPPORTED_TYPES:
                ti.size = len(m.data)
                tf.addfile(ti, io.BytesIO(m.data))
            else:
                ti.size = 0
                tf.addfile(ti)
    return out.getvalue()


def _member(name: str, data: bytes = b"", **kw: Any) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + data + bytes(-len(data) % 512)


def _raw_header(name: bytes, typeflag: bytes, data: bytes, **fields: bytes) -> bytes:
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
    _fix_checksum(h, 0)
    return bytes(h) + data + bytes(-len(data) % 512)


def _records(records: list[bytes]) -> bytes:
    body = b""
    for rec in records:
        n = len(rec) + 3
        while len(b"%d %s\n" % (n, rec)) != n:
            n += 1
        body += b"%d %s\n" % (n, rec)
    return body


def _pax(records: list[bytes], then: bytes) -> bytes:
    return _raw_header(b"PaxHeaders/x", b"x", _records(records)) + then


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
        return _pax(picked, _raw_header(b"paxfile", b"0", b"data" * rng.randint(0, 300)))
    if kind == 10:
        return _raw_header(b"dev", b"3", b"", devmajor=b"\x80" + b"\xff" * 7, devminor=b"\xff" * 8) + _member(
            "dev2", type=chr_, devmajor=0o7777777, devminor=0o7777777
        )
    if kind == 11:
        return (
            _raw_header(b"fifo", b"6", b"")
            + _raw_header(b"contig", b"7", b"abc")
            + _raw_header(b"unknown", b"Z", b"zz")
            + _raw_header(b"volhdr", b"V", b"")
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
            _raw_header(b"././@LongLink", b"L", name + b"\0")
            + _raw_header(b"././@LongLink", b"K", b"../../outside\0")
            + _raw_header(b"short", b"2", b"")
        )
    if kind == 16:
        sparse = b"%011o\0%011o\0" % (0, 4) + b"%011o\0%011o\0" % (1 << 20, 4)
        ext = rng.random() < 0.5
        hdr = _raw_header(
            b"sparse", b"S", b"abcdefgh", sparse=sparse + bytes(96 - 48) + (b"\1" if ext else b"\0")
        )
        hdr = bytearray(hdr)
        hdr[483:495] = b"%011o\0" % ((1 << 20) + 4)
        _fix_checksum(hdr, 0)
        if ext:
            blk = bytearray(512)
            blk[0:24] = b"%011o\0%011o\0" % (99, 1 << 40)
            blk[504] = rng.choice([0, 1])
            return bytes(hdr[:512]) + bytes(blk) + bytes(hdr[512:])
        return bytes(hdr)
    if kind == 17:
        g = _records([b"path=global", b"mtime=1e999"][: rng.randint(1, 2)])
        return _raw_header(b"global", b"g", g) + _member("after-global", b"x")
    if kind == 18:
        return _pax([b"linkpath=/outside\0/pwn"], _raw_header(b"nulsym", b"2", b""))
    if kind == 19:
        return b"".join(_member(f"many/{i}") for i in range(rng.choice([100, 2000])))
    if kind == 20:
        return _pax([b"path=" + b"/".join(b"c%d" % i for i in range(4096))], _raw_header(b"x", b"5", b""))
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
        return _pax(recs, _raw_header(b"GNUSparseFile.0/sp", b"0", body))
    if kind == 22:
        return _member("s", type=sym, linkname="s") + _member("s/x", b"through a self link")
    if kind == 23:  # the layer export writes its own WHITEOUTS.txt: never through the image's
        return _member(
            "WHITEOUTS.txt", type=sym, linkname=rng.choice(["/outside/canary", "../../outside/x"])
        ) + (_member(".wh.gone"))
    # the last kind: a name with every awkward byte
    return _member("".join(chr(c) for c in range(1, 128) if chr(c) != "/") + "\udcff", b"odd")


def _decompress(data: bytes) -> tuple[bytes, str] | None:
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data), "gzip"
        except (OSError, EOFError, zlib.error):
            return None
    if data[:4] == b"\x28\xb5\x2f\xfd":
        try:
            return zstandard.ZstdDecompressor().decompressobj().decompress(data), "zstd"
        except zstandard.ZstdError:
            return None
    if len(data) >= 512 and (data[257:262] == b"ustar" or not any(data[:512])):
        return data, "none"
    return None


def _compress(data: bytes, how: str, orig: str, seed: int) -> bytes:
    if how == "same":
        how = orig
    if how == "none":
        return data
    if how == "zstd":
        return zstandard.ZstdCompressor(level=1).compress(data)
    if how == "gzip-multi" and len(data) > 1:
        cut = random.Random(seed).randrange(1, len(data))
        return gzip.compress(data[:cut], 1, mtime=0) + gzip.compress(data[cut:], 1, mtime=0)
    out = gzip.compress(data, 1, mtime=0)
    if how == "gzip-zeros":
        out += bytes(random.Random(seed).choice([1, 2, 100, 70000]))
    elif how == "gzip-garbage":
        out += b"\x1f" if seed % 2 else b"garbage"
    return out


def _walk_json(doc: Any, limit: int = 5000) -> list[tuple[Any, Any]]:
    """(container, key) of every value in ``doc`` (the root as (None, None)), depth first."""
    out: list[tuple[Any, Any]] = [(None, None)]
    stack = [doc]
    while stack and len(out) < limit:
        v = stack.pop()
        if isinstance(v, dict):
            for k in list(v):
                out.append((v, k))
                stack.append(v[k])
        elif isinstance(v, list):
            for i in range(len(v)):
                out.append((v, i))
                stack.append(v[i])
    return out


_DEEP = "\x00DEEP\x00"


def _mutate_json(raw: bytes, where: int, how: int, seed: int, other: bytes) -> bytes:
    rng = random.Random(seed)
    if how == 17:  # damaged text
        choice = rng.randrange(6)
        if choice == 0:
            return raw[: rng.randrange(len(raw) + 1)]
        if choice == 1:
            return raw + b"garbage"
        if choice == 2:
            return b"\xef\xbb\xbf" + raw
        if choice == 3:
            return raw.decode("utf-8", "replace").encode("utf-16")
        if choice == 4:
            return b'{"a": NaN, "b": Infinity, "manifests": -Infinity}'
        return b"   "
    if how == 18:
        return other
    doc = json.loads(raw)
    nodes = _walk_json(doc)
    parent, key = nodes[where % len(nodes)]
    deep_depth = rng.choice([50, 990, 10000])
    values: dict[int, Any] = {
        1: None,
        2: [],
        3: {},
        4: 0,
        5: -1,
        6: 10**30,
        7: 1e308,
        8: "str",
        9: True,
        10: _DEEP,
        11: "x" * 100000,
        12: rng.choice(
            [
                "../../outside/canary",
                "/etc/passwd",
                "sha256:" + "0" * 64,
                "sha256:abc",
                "sha256:../../x",
                "",
                "\x00",
                "blobs/sha256/../../outside",
            ]
        ),
        14: [0] * rng.choice([1000, 100000]),
        15: -(10**30),
        16: 1.5,
    }
    if parent is None:
        if how == 0:
            return b"{}"
        new: Any = values.get(how, doc)
        if how == 13:
            new = [doc]
        elif how == 19 and isinstance(doc, list):
            new = doc * rng.choice([2, 1000])
        doc = new
    elif how == 0:
        del parent[key]
    elif how == 13:
        parent[key] = [parent[key]]
    elif how == 19:
        v = parent[key]
        parent[key] = v * rng.choice([2, 1000]) if isinstance(v, list | str) else [v, v]
    else:
        parent[key] = values[how]
    text = json.dumps(doc)
    if _DEEP in text:
        text = text.replace(json.dumps(_DEEP), "[" * deep_depth + "]" * deep_depth)
    return text.encode()


def _is_json(m: Member) -> bool:
    if not m.info.isfile() or not m.data or len(m.data) > 1 << 20 or m.data.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(m.data)
    except ValueError:
        return False
    return True


def _apply_model_op(members: list[Member], op: list[Any]) -> None:
    kind = op[0]
    files = [m for m in members if m.info.isfile()]
    if not files:
        return
    if kind == "json":
        docs = [m for m in files if _is_json(m)]
        if docs:
            _k, which, where, how, seed = op
            m = docs[which % len(docs)]
            other = docs[(which + 1) % len(docs)].data
            m.data = _mutate_json(m.data, where, how, seed, other)
    elif kind == "layer":
        _k, which, inner, recompress, seed = op
        layers = []
        for m in files:
            if len(m.data) >= 32:
                d = _decompress(m.data)
                if d is not None and len(d[0]) >= 512 and header_offsets(d[0]):
                    layers.append((m, d))
        if not layers:
            return
        m, (tar, comp) = layers[which % len(layers)]
        for iop in inner:
            if iop[0] == "inject":
                # before one of the members, or after the last one (before the end marker)
                offs = header_offsets(tar)
                if not offs:
                    at = 0
                elif iop[1] % 2:
                    last = offs[-1]
                    at = last + 512 + ((_octal(tar[last + 124 : last + 136]) + 511) & ~511)
                else:
                    at = offs[iop[1] // 2 % len(offs)]
                tar = tar[:at] + hostile_members(iop[2], iop[3]) + tar[at:]
            else:
                tar = _apply_byte_ops(tar, [iop])
        m.data = _compress(tar, recompress, comp, seed)
    elif kind == "swap":
        a, b = files[op[1] % len(files)], files[op[2] % len(files)]
        a.data, b.data = b.data, a.data
    elif kind == "drop":
        members.remove(files[op[1] % len(files)])
    elif kind == "dup":
        m = files[op[1] % len(files)]
        dup = Member(tarfile.TarInfo(m.info.name), m.data[: len(m.data) // 2] if op[2] else m.data)
        members.append(dup)
    elif kind == "link":
        m = files[op[1] % len(files)]
        target = files[op[2] % len(files)].info.name
        how = op[3]
        ti = tarfile.TarInfo(m.info.name)
        if how == 0:
            ti.type, ti.linkname = tarfile.SYMTYPE, "../" * (m.info.name.count("/")) + target
        elif how == 1:
            ti.type, ti.linkname = tarfile.LNKTYPE, target
        elif how == 2:
            ti.type, ti.linkname = tarfile.SYMTYPE, m.info.name.rsplit("/", 1)[-1]  # itself
        elif how == 3:
            ti.type, ti.linkname = tarfile.SYMTYPE, "/outside/canary"
        elif how == 4:
            ti.type, ti.linkname = tarfile.SYMTYPE, "../../../outside/canary"
        else:
            ti.type = tarfile.DIRTYPE
        m.info, m.data = ti, b""


@dataclass
class Case:
    """A mutated archive, ready to be written: a file's bytes or a folder's members."""

    data: bytes | None
    members: list[Member] | None
    suffix: str


def apply_plan(plan: dict[str, Any], seeds: list[Seed]) -> Case:
    seed = seeds[plan["seed"] % len(seeds)]
    members = [Member(_copy_info(m.info), m.data) for m in seed.members]
    for op in plan["ops"]:
        _apply_model_op(members, op)
    if plan.get("dir") or seed.is_dir:
        files = [m for m in members if m.info.isfile()]
        if plan["bytes"] and files:
            m = files[plan["bytes"][0][1] % len(files)]
            m.data = _apply_byte_ops(m.data, [op for op in plan["bytes"] if op[0] != "hdr"])
        return Case(None, members, "")
    data = _apply_byte_ops(_tar_bytes(members), plan["bytes"])
    suffix = ".tar"
    if plan["outer"] == "gzip":
        data, suffix = gzip.compress(data, 1, mtime=0), ".tar.gz"
    elif plan["outer"] == "zstd":
        data, suffix = zstandard.ZstdCompressor(level=1).compress(data), ".tar.zst"
    if plan["outer"] != "none":
        data = _apply_byte_ops(data, [op for op in plan["post"] if op[0] != "hdr"])
    return Case(data, None, suffix)


def _copy_info(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    new = tarfile.TarInfo(ti.name)
    for attr in ("size", "mode", "uid", "gid", "mtime", "type", "linkname", "uname", "gname"):
        setattr(new, attr, getattr(ti, attr))
    new.devmajor, new.devminor = ti.devmajor, ti.devminor
    new.pax_headers = dict(ti.pax_headers)
    return new


def write_case(case: Case, folder: Path) -> Path:
    """Write the case's archive into ``folder``; returns its path."""
    if case.data is not None:
        p = folder / ("archive" + case.suffix)
        p.write_bytes(case.data)
        return p
    root = folder / "archive"
    root.mkdir()
    assert case.members is not None
    for m in case.members:
        name = m.info.name.lstrip("/")
        if not name or ".." in name.split("/"):
            continue
        p = root / name
        with contextlib.suppress(OSError):
            p.parent.mkdir(parents=True, exist_ok=True)
            if m.info.isdir():
                p.mkdir(exist_ok=True)
            elif m.info.issym():
                os.symlink(m.info.linkname, p)
            elif m.info.isfile() and not p.exists():
                p.write_bytes(m.data)
    return root


# ---- the worker: runs the engine on one case at a time ------------------------------------------------
def _preimport() -> None:
    """Everything the engine may import lazily, imported now (a chrooted worker cannot import later)."""
    import hashlib  # noqa: F401
    import mmap  # noqa: F401
    import tempfile  # noqa: F401
    import zlib  # noqa: F401

    import layerscope.core.analysis
    import layerscope.core.archive
    import layerscope.core.cli
    import layerscope.core.export
    import layerscope.core.layers
    import layerscope.core.merge
    import layerscope.core.parallel
    import layerscope.core.session
    import layerscope.core.views  # noqa: F401

    for codec in (
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-32-le",
        "utf-32-be",
        "latin-1",
    ):
        codecs.lookup(codec)


def run_engine(path: Path, export_root: Path, fork: bool = False) -> None:
    """What a user can do with an archive, end to end. Raises LayerScopeError for bad input."""
    from layerscope.core.analysis import dive_figures, layerscope_figures
    from layerscope.core.archive import open_archive
    from layerscope.core.cli import image_summary, listing
    from layerscope.core.export import export, export_as_stored, layer_items, merged_items
    from layerscope.core.layers import load_image, read_content, verify_image
    from layerscope.core.merge import merge
    from layerscope.core.session import LoadedImage
    from layerscope.core.views import LayerView, MergedView

    with open_archive(path) as a:
        json.dumps([im.describe() for im in a.images] + [a.format_name] + a.warnings)
        json.dumps(a.attestations, default=str)
        for n, im in enumerate(a.images[:3]):
            layers = load_image(a, im, fork=fork)
            tree = merge(layers, archive=a)
            dive = dive_figures(layers)
            ours = layerscope_figures(layers, tree, base_layers=min(1, len(layers)))
            json.dumps({"dive": dive.as_json(), "ours": ours.as_json()})
            json.dumps(image_summary(a, im, layers))
            loaded = LoadedImage(a, im, layers, tree, dive, ours)
            json.dumps(loaded.warnings)
            json.dumps(listing(tree, None, "merged"))
            for i in range(min(len(layers), 4)):
                json.dumps(listing(tree, i, "layer"))
                for view in (LayerView(tree, i), MergedView(loaded.merged_upto(i))):
                    for p in view.paths()[:300]:
                        view.row(p)
                    view.search("a")
                for e in [e for e in layers[i].entries if e.type == "file"][:3]:
                    read_content(a, layers[i].desc, e, limit=1 << 16)
            if n == 0:
                top = len(layers) - 1
                export(a, tree, merged_items(tree), export_root / "merged")
                export(a, tree, merged_items(tree), export_root / "merged.tar.gz")
                if layers:
                    for i, name in {top: "layer", 0: "layer0"}.items():
                        items, deletes = layer_items(tree, i)
                        export(a, tree, items, export_root / name, deletes=deletes)
                    export_as_stored(a, layers[top], export_root / "stored.tar")
            verify_image(a, im)


def _one_line_naming(msg: str, path: Path) -> str | None:
    """Why an error message is not acceptable (None when it is)."""
    if "\n" in msg:
        return "the message has several lines"
    if str(path) not in msg and "export" not in msg:
        return "the message does not name the file"
    return None


def worker_main() -> None:
    """Read ``{"path", "export", "fork"}`` lines on stdin, answer one JSON line per case on stdout."""
    import resource
    import tempfile

    from layerscope.core.errors import LayerScopeError

    _preimport()
    mem = int(os.environ.get("FUZZ_MEM_MB", "1024"))
    root = os.environ.get("FUZZ_CHROOT")
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing the engine prints may break the protocol
    if root:
        os.chroot(root)
        os.chdir("/")
    resource.setrlimit(resource.RLIMIT_AS, (mem << 20, mem << 20))
    tempfile.tempdir = "/tmp" if root else os.environ["TMPDIR"]
    for line in sys.stdin:
        req = json.loads(line)
        path = Path(req["path"])
        t0 = time.perf_counter()
        res: dict[str, Any] = {"outcome": "ok"}
        try:
            run_engine(path, Path(req["export"]), req.get("fork", False))
        except LayerScopeError as exc:
            res = {"outcome": type(exc).__name__, "message": str(exc)}
            bad = _one_line_naming(str(exc), path)
            if bad:
                res = {"outcome": "failure:message", "message": f"{bad}: {exc!r}"}
        except MemoryError:
            res = {"outcome": "failure:memory", "message": traceback.format_exc()}
        except BaseException as exc:
            res = {"outcome": f"failure:{type(exc).__name__}", "message": traceback.format_exc()}
        res["seconds"] = time.perf_counter() - t0
        res["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        out.write(json.dumps(res) + "\n")
        out.flush()


# ---- the runner: one worker, its case folder, the checks around each case ---------------------------
@dataclass
class Outcome:
    outcome: str  # "ok", a LayerScopeError class name, or "failure:<what>"
    message: str = ""
    seconds: float = 0.0
    maxrss_mb: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.outcome.startswith("failure:")


def _force_rmtree(p: Path) -> None:
    """Remove whatever a case left (read-only folders, devices, fifos, symlinks) without following links."""
    from layerscope.core.export import _rmtree

    if p.is_symlink() or not p.is_dir():
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
        return
    _rmtree(p)
    if p.exists():
        shutil.rmtree(p, ignore_errors=True)


class Runner:
    """Runs cases in a worker process under a time and a memory bound."""

    CANARY = b"the canary: nothing may change this file\n"

    def __init__(
        self, base: Path, timeout: float = 10.0, mem_mb: int = 1024, chroot: bool | None = None
    ) -> None:
        self.base = base
        self.case = base / "case"
        self.timeout = timeout
        self.mem_mb = mem_mb
        self.chroot = (os.geteuid() == 0) if chroot is None else chroot
        self.proc: subprocess.Popen[bytes] | None = None
        self.maxrss_mb = 0
        self.case.mkdir(parents=True, exist_ok=True)

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["FUZZ_MEM_MB"] = str(self.mem_mb)
        env["TMPDIR"] = str(self.case / "tmp")
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        if self.chroot:
            env["FUZZ_CHROOT"] = str(self.case)
        return subprocess.Popen(
            [sys.executable, "-c", "from tests.core.test_fuzz import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=str(self.case),
            env=env,
        )

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def _kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def _prepare(self) -> None:
        for child in list(self.case.iterdir()):
            _force_rmtree(child)
        (self.case / "export").mkdir()
        (self.case / "tmp").mkdir()
        (self.case / "outside").mkdir()
        (self.case / "outside" / "canary").write_bytes(self.CANARY)

    def _inside(self, p: Path) -> str:
        """The path as the worker sees it."""
        return "/" + p.relative_to(self.case).as_posix() if self.chroot else str(p)

    def run(self, case: Case, fork: bool = False) -> Outcome:
        self._prepare()
        path = write_case(case, self.case)
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        req = {"path": self._inside(path), "export": self._inside(self.case / "export"), "fork": fork}
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._kill()
            return Outcome("failure:worker-died", "the worker was gone before the case")
        fd = self.proc.stdout
        t0 = time.perf_counter()
        ready, _w, _x = select.select([fd], [], [], self.timeout + 5.0)  # +5 s: worker start-up
        if not ready:
            self._kill()
            res = Outcome("failure:timeout", f"no answer within {self.timeout:.0f} s")
        else:
            line = fd.readline()
            if not line:
                code = self.proc.wait()
                self.proc = None
                res = Outcome("failure:worker-died", f"the worker exited with status {code}")
            else:
                d = json.loads(line)
                res = Outcome(d["outcome"], d.get("message", ""), d["seconds"], d["maxrss_mb"])
                if res.seconds > self.timeout:
                    res = Outcome("failure:timeout", f"took {res.seconds:.1f} s", res.seconds, res.maxrss_mb)
                self.maxrss_mb = max(self.maxrss_mb, res.maxrss_mb)
        res.extra["wall"] = time.perf_counter() - t0
        escaped = self.check_outside(path)
        if escaped and not res.failed:
            res = Outcome("failure:wrote-outside", escaped, res.seconds, res.maxrss_mb)
        return res

    def check_outside(self, input_path: Path) -> str | None:
        """What the case wrote outside the export folder (None when nothing)."""
        problems = []
        allowed = {input_path.name, "export", "tmp", "outside"}
        for child in self.case.iterdir():
            if child.name not in allowed:
                problems.append(f"{child.name} appeared next to the export folder")
        outside = self.case / "outside"
        if sorted(os.listdir(outside)) != ["canary"] or (outside / "canary").read_bytes() != self.CANARY:
            problems.append(f"the canary folder changed: {sorted(os.listdir(outside))}")
        st_ = os.lstat(outside / "canary")
        if not stat.S_ISREG(st_.st_mode) or st_.st_nlink != 1:
            problems.append("the canary was replaced or linked to")
        left = os.listdir(self.case / "tmp")
        if left:
            problems.append(f"temporary files left: {left[:5]}")
        for name in os.listdir(self.case / "export"):
            if name not in DEST_NAMES:
                problems.append(f"export folder holds {name!r}")
        return "; ".join(problems) or None


# ---- the short run, in the test suite ---------------------------------------------------------------
SHORT_CASES = int(os.environ.get("LAYERSCOPE_FUZZ_CASES", "500"))


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory):
    need_shared()
    work = tmp_path_factory.mktemp("fuzz")
    seeds = load_seeds(work / "seeds")
    runner = Runner(work / "run", timeout=10.0, mem_mb=1024)
    yield seeds, runner
    runner.close()


def _report(plan: dict[str, Any], seeds: list[Seed], res: Outcome) -> str:
    return (
        f"{res.outcome} on seed {seeds[plan['seed'] % len(seeds)].name}\n"
        f"plan: {json.dumps(plan)}\n{res.message}"
    )


@settings(
    max_examples=SHORT_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(case=st.integers(0, 2**32 - 1))
def test_fuzz_short_run(fuzz, case):
    """A few hundred mutated archives: every one opens and analyses, or fails with a LayerScopeError.

    Hypothesis picks the case numbers (derandomized: the same ones on every run); a case number
    seeds ``random.Random``, so that plans are spread as in the long run (hypothesis's own random
    draws favour edge values, which made most plans alike). The failure report holds the plan."""
    seeds, runner = fuzz
    plan = make_plan(random.Random(case), len(seeds))
    res = runner.run(apply_plan(plan, seeds), fork=plan["fork"])
    assert not res.failed, _report(plan, seeds, res)


def test_seeds_pass_unmutated(fuzz):
    """The harness itself: every seed, as it is, goes through the whole engine without an error."""
    seeds, runner = fuzz
    for i in range(len(seeds)):
        plan = {"seed": i, "ops": [], "bytes": [], "outer": "none", "post": [], "dir": False, "fork": False}
        res = runner.run(apply_plan(plan, seeds))
        assert res.outcome == "ok", _report(plan, seeds, res)


def test_harness_catches_a_write_outside(fuzz, tmp_path):
    """A case that writes next to the export folder is reported (the check is not blind)."""
    seeds, runner = fuzz
    plan = {"seed": 0, "ops": [], "bytes": [], "outer": "none", "post": [], "dir": False, "fork": False}
    runner._prepare()
    (runner.case / "stray").write_text("x")
    assert runner.check_outside(runner.case / "archive.tar") is not None
    res = runner.run(apply_plan(plan, seeds))
    assert res.outcome == "ok" and runner.check_outside(runner.case / "archive.tar") is None


@pytest.mark.parametrize("kind", range(INJECT_KINDS))
def test_every_hostile_member_kind(fuzz, kind):
    """Each kind of hostile member, spliced into a plain layer, is handled without a crash or escape."""
    seeds, runner = fuzz
    idx = next(i for i, s in enumerate(seeds) if s.name == "builder:docker-legacy-none")
    for at in (0, 1):
        plan = {
            "seed": idx,
            "ops": [["layer", 0, [["inject", at, kind, 7]], "same", 0]],
            "bytes": [],
            "outer": "none",
            "post": [],
            "dir": False,
            "fork": False,
        }
        res = runner.run(apply_plan(plan, seeds))
        assert not res.failed, _report(plan, seeds, res)
