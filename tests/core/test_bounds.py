"""Hostile archives that go for time, memory or disk: each is handled within a bound (streamed,
trimmed with a warning) or refused with one clear line naming the file. And the command line gives
exit 2 and one line for every negative fixture of shared/corpus/peer.

The limits are constants in core/limits.py, documented there:
MAX_PATH, MAX_ENTRIES, MAX_INDEX_BYTES, MAX_XATTR_BYTES, AFTER_END, MAX_WARNINGS; MAX_JSON_BYTES,
MAX_JSON_DEPTH, MAX_JSON_COST, MAX_LAYERS, MAX_MANIFESTS.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from layerscope.core import cli, limits
from layerscope.core.archive.open import open_archive
from layerscope.core.dive_figures import dive_figures
from layerscope.core.errors import CorruptArchive, InvalidJSON, LayerScopeError, NotAnImage, UnsupportedFormat
from layerscope.core.export.items import layer_items, merged_items
from layerscope.core.export.write import export
from layerscope.core.layers.content import read_content
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from layerscope.core.tar.index import read_entries
from layerscope.core.tar.source import BufferSource
from layerscope.core.waste import layerscope_figures
from tests.conftest import PEER, ROOT, need_shared
from tests.core.test_archive_peer import NEGATIVE, POSITIVE
from tests.imagebuilder import File, Hardlink, Image, Layer, RawMember, Symlink, Whiteout, build

GIB = 1 << 30


# ---- building archives from raw layer bytes --------------------------------------------------------
def _member(name: str, data: bytes = b"", **kw: object) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape") + data + bytes(-len(data) % 512)


def _ustar(name: bytes, size_field: bytes = b"00000000000\0", typeflag: bytes = b"0") -> bytearray:
    """A ustar header written by hand, with any size field; checksum fixed."""
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field
    h[136:148] = b"14544762400\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return h


def docker_archive(
    dest: Path,
    layers: list[bytes],
    *,
    manifest: object | None = None,
    config: bytes | None = None,
    outer_gzip: bool = False,
) -> Path:
    """A legacy ``docker save`` archive around raw layer blobs (any compression, any content)."""
    names = [f"l{i}/layer.tar" for i in range(len(layers))]
    if config is None:
        diff = ["sha256:" + hashlib.sha256(b).hexdigest() for b in layers]
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": diff}}).encode()
    if manifest is None:
        manifest = [{"Config": "config.json", "RepoTags": ["bounds:1"], "Layers": names}]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:

        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))

        for n, data in zip(names, layers, strict=True):
            add(n, data)
        add("config.json", config)
        add("manifest.json", manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode())
    data = buf.getvalue()
    if outer_gzip:
        data = gzip.compress(data, 9, mtime=0)
        dest = dest.with_name(dest.name + ".gz")
    dest.write_bytes(data)
    return dest


def _one_line(exc: LayerScopeError, path: Path) -> str:
    msg = str(exc)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def _run_child(code: str, *args: str, timeout: float = 120) -> tuple[str, float, int]:
    """Run ``code`` in a fresh interpreter; return (stdout, seconds, peak RSS in MB)."""
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout.strip().splitlines()
    return "\n".join(out[:-1]), time.perf_counter() - t0, int(out[-1])


# the peak RSS of this process image (VmHWM): ru_maxrss would include the parent's when forked
_PEAK = "print(next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')) // 1024)"


# ---- sizes beyond the file -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "size_field",
    [
        b"77777777777\0",  # 8 GiB in octal
        b"\x80" + bytes(3) + b"\xff" * 8,  # base-256: 2^64 - 1
        b"\x80" + b"\xff" * 11,  # base-256: about 2^88
    ],
)
def test_outer_member_claiming_more_than_the_file(tmp_path, size_field):
    p = tmp_path / "claims.tar"
    p.write_bytes(bytes(_ustar(b"manifest.json", size_field)) + b"[]" + bytes(510 + 1024))
    with pytest.raises(NotAnImage) as ei:
        open_archive(p)
    assert "claims" in _one_line(ei.value, p)


@pytest.mark.parametrize("compression", ["none", "gzip"])
@pytest.mark.parametrize("how", ["header", "pax"])
def test_layer_member_claiming_more_than_the_layer(tmp_path, compression, how):
    if how == "header":
        layer = bytes(_ustar(b"big", b"77777777777\0")) + b"x" * 512 + bytes(1024)
    else:
        layer = _member("big", b"x" * 10, pax_headers={"size": str(1 << 40)}) + bytes(1024)
    blob = gzip.compress(layer, mtime=0) if compression == "gzip" else layer
    p = docker_archive(tmp_path / "img.tar", [blob])
    with open_archive(p) as a, pytest.raises(CorruptArchive) as ei:
        load_image(a, a.images[0])
    assert "claims" in _one_line(ei.value, p)


@pytest.mark.parametrize(
    "records",
    [
        {"size": "-5"},
        {"mtime": "1e400", "uid": "inf", "gid": "nan"},
        {"GNU.sparse.major": "1", "GNU.sparse.realsize": "64"},
        {"GNU.sparse.realsize": "-4"},
    ],
)
def test_pax_numbers_nobody_can_hold(records):
    """Infinite, negative or non-numbers in PAX records: a CorruptArchive or the header's own value."""
    layer = _member("f", b"data", pax_headers=records) + bytes(1024)
    try:
        res = read_entries(BufferSource(layer))
    except CorruptArchive:
        return
    (e,) = res.entries
    assert e.path == "f" and e.mtime == 1700000000 and e.uid == 0


@pytest.mark.parametrize("sparse_map", [b"x\ny\n", b"-1\n", b"1\n-5\n3\n", b"2\n0\n4\n"])
def test_pax_sparse_map_garbage(sparse_map):
    body = sparse_map + bytes(-len(sparse_map) % 512) + b"AAAA"
    pax = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "64"}
    layer = _member("sp", body, pax_headers=pax) + bytes(1024)
    with pytest.raises(CorruptArchive):
        read_entries(BufferSource(layer))


def test_gnu_sparse_header_garbage():
    h = _ustar(b"sparse", b"00000000010\0", b"S")
    h[386:398] = b"zzzzzzzzzzz\0"  # the first sparse offset is not a number
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    with pytest.raises(CorruptArchive):
        read_entries(BufferSource(bytes(h) + bytes(512) + bytes(1024)))


# ---- many entries, deep and long names -------------------------------------------------------------
_INDEX_CHILD = f"""
import sys, time
from layerscope.core.archive.open import open_archive
from layerscope.core.layers.index import load_image
t = time.perf_counter()
a = open_archive(sys.argv[1]); (li,) = load_image(a, a.images[0])
print(len(li.entries), round(time.perf_counter() - t, 1))
{_PEAK}
"""


def _tiny_entries_layer(n: int) -> bytes:
    """``n`` empty files, d000/f0000000 ..., headers made from one template (fast)."""
    ti = tarfile.TarInfo("d000/f0000000")
    ti.mtime, ti.mode = 1700000000, 0o644
    tmpl = bytearray(ti.tobuf(tarfile.USTAR_FORMAT))
    tmpl[148:156] = b" " * 8
    base = sum(tmpl) - sum(b"d000/f0000000")
    parts = []
    for i in range(n):
        name = b"d%03d/f%07d" % (i // 10000, i)
        tmpl[0:13] = name
        tmpl[148:156] = b"%06o\0 " % (base + sum(name))
        parts.append(bytes(tmpl))
    parts.append(bytes(1024))
    return b"".join(parts)


def _write_tiny_entries(dest: str, n: int = 1_000_000) -> None:
    docker_archive(Path(dest), [_tiny_entries_layer(n)])


@pytest.mark.slow
def test_a_million_tiny_entries_index_in_bounded_memory(tmp_path):
    """1,000,000 empty files in one plain layer (512 MB of headers): indexing keeps about 300 bytes per
    entry; measured 345 MB peak RSS and 5 s on the 2-core test machine. The bound tested: 600 MB."""
    # built in a child too: this process's memory must stay low, because a forked child's ru_maxrss
    # starts from it (other tests measure their children that way)
    p = tmp_path / "million.tar"
    build_code = (
        "import sys; from tests.core.test_bounds import _write_tiny_entries; _write_tiny_entries(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", build_code, str(p)], check=True, cwd=ROOT, timeout=300)
    out, _secs, peak = _run_child(_INDEX_CHILD, str(p), timeout=300)
    p.unlink()
    entries, _t = out.split()
    assert int(entries) == 1_000_000
    assert peak < 600, f"indexing 1M entries peaked at {peak} MB"


def test_entry_limit_refuses_with_one_line(tmp_path, monkeypatch):
    """Past MAX_ENTRIES (4 million; lowered here) the archive is refused, before memory runs out: a
    gzip of identical headers expands 1000-fold, so entries are the cheapest thing to forge."""
    monkeypatch.setattr(limits, "MAX_ENTRIES", 5000)
    p = docker_archive(tmp_path / "img.tar", [gzip.compress(_tiny_entries_layer(6000), mtime=0)])
    with open_archive(p) as a, pytest.raises(UnsupportedFormat) as ei:
        load_image(a, a.images[0])
    assert "more than 5,000 entries" in _one_line(ei.value, p)


def test_4096_deep_paths(tmp_path):
    """A 4096 levels deep tree (each folder an entry, ~8 KB names) indexes, merges and analyses."""
    parts = []
    path = ""
    for _ in range(4096):
        path = f"{path}/d" if path else "d"
        parts.append(_member(path, type=tarfile.DIRTYPE))
    parts.append(_member(path + "/leaf", b"leaf"))
    p = docker_archive(tmp_path / "deep.tar", [b"".join(parts) + bytes(1024)])
    t0 = time.perf_counter()
    with open_archive(p) as a:
        (li,) = load_image(a, a.images[0])
        tree = merge([li], archive=a)
        dive_figures([li])
        layerscope_figures([li], tree)
        assert len(tree.nodes) == 4097
        assert read_content(a, li.desc, li.entries[-1]) == b"leaf"
    assert time.perf_counter() - t0 < 20


def test_many_distinct_deep_chains_are_refused(tmp_path):
    """Folders implied by deep names cost memory quadratic in the depth; 300 distinct 4000-deep
    chains would take gigabytes to merge. The index estimates that cost and refuses early."""
    layer = b"".join(_member(f"c{i}/" + "a/" * 4000 + "f") for i in range(300)) + bytes(1024)
    p = docker_archive(tmp_path / "chains.tar", [gzip.compress(layer, mtime=0)])
    t0 = time.perf_counter()
    with open_archive(p) as a, pytest.raises(UnsupportedFormat) as ei:
        load_image(a, a.images[0])
    assert "memory" in _one_line(ei.value, p)
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("shape", ["flat", "deep"])
def test_64kb_names_are_left_out_quickly(tmp_path, shape):
    """PAX names of 64 KB (one name, or 32768 levels): longer than MAX_PATH, so left out with a
    warning; 500 of them take linear time (no per-level work)."""
    name = "x" * 65536 if shape == "flat" else "a/" * 32767 + "f"
    layer = b"".join(_member(f"{i}{name}") for i in range(500)) + _member("ok", b"ok") + bytes(1024)
    p = docker_archive(tmp_path / "long.tar", [gzip.compress(layer, mtime=0)])
    t0 = time.perf_counter()
    with open_archive(p) as a:
        (li,) = load_image(a, a.images[0])
    assert time.perf_counter() - t0 < 10
    assert [e.path for e in li.entries] == ["ok"]
    assert any("more than 16384 characters" in w for w in li.warnings)
    assert len(li.warnings) <= limits.MAX_WARNINGS + 2
    assert all(len(w) < 400 for w in li.warnings)


# ---- gzip bombs --------------------------------------------------------------------------------------
def _zeros_gzip(total: int, member: int = 64 << 20) -> bytes:
    """A gzip stream of ``total`` zero bytes, made as identical members (deflate of zeros at level 9
    is about 1030:1, its ceiling, so 10 GiB take 10 MB: compressing once and repeating is quick)."""
    one = gzip.compress(bytes(member), 9, mtime=0)
    return one * (total // member)


def test_gzip_of_zeros_layer_stops_after_the_end_marker(tmp_path):
    """A layer that is 10 GiB of zeros (10 MB of gzip) is a valid, empty tar: its first block is the
    end-of-archive marker. The reader stops AFTER_END (16 MB) past it with a warning instead of
    decompressing 10 GiB (about 10 s)."""
    bomb = _zeros_gzip(10 * GIB)
    assert len(bomb) < 11 << 20
    p = docker_archive(tmp_path / "bomb.tar", [bomb])
    t0 = time.perf_counter()
    with open_archive(p) as a:
        (li,) = load_image(a, a.images[0])
    assert time.perf_counter() - t0 < 3
    assert li.entries == []
    assert li.uncompressed_size < 64 << 20
    assert any("follow the tar's end-of-archive marker" in w for w in li.warnings)


def test_nested_gzip_bomb_1kb_to_10gib(tmp_path):
    """ "1 KB expanding to 10 GB": deflate alone cannot (1030:1 at most), but a gzip of an archive
    whose layer is a gzip of zeros can: the outer .tar.gz is about 10 KB and the layer inside
    expands to 10 GiB. Outer decompression stops after the outer tar's end; the layer is read as
    above; the temporary file holds the 10 MB layer, not 10 GiB."""
    p = docker_archive(tmp_path / "bomb.tar", [_zeros_gzip(10 * GIB)], outer_gzip=True)
    assert p.stat().st_size < 64 << 10
    t0 = time.perf_counter()
    with open_archive(p) as a:
        (li,) = load_image(a, a.images[0])
    assert time.perf_counter() - t0 < 5
    assert any("end-of-archive marker" in w for w in li.warnings)


def test_outer_gzip_of_zeros_is_refused_quickly(tmp_path):
    """A .tar.gz of 10 GiB of zeros is an empty tar: refused after reading just past its end marker
    (nothing like 10 GiB decompressed or written to the temporary folder)."""
    p = tmp_path / "zeros.tar.gz"
    p.write_bytes(_zeros_gzip(10 * GIB))
    t0 = time.perf_counter()
    with pytest.raises(NotAnImage) as ei:
        open_archive(p)
    assert "empty tar" in _one_line(ei.value, p)
    assert time.perf_counter() - t0 < 3


def test_real_archive_with_junk_after_its_end(tmp_path):
    """A good archive followed by gigabytes of zeros, all gzipped: opens, with a warning."""
    img = build(Image([Layer([File("a", b"a")])]), tmp_path / "img.tar", "docker25")
    p = tmp_path / "junk.tar.gz"
    p.write_bytes(gzip.compress(img.read_bytes(), mtime=0) + _zeros_gzip(4 * GIB))
    t0 = time.perf_counter()
    with open_archive(p) as a:
        (li,) = load_image(a, a.images[0])
        assert [e.path for e in li.entries] == ["a"]
        assert any("end-of-archive" in w for w in a.warnings)
    assert time.perf_counter() - t0 < 3


_BIG_MEMBER_CHILD = f"""
import sys, time
from layerscope.core.archive.open import open_archive
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
t = time.perf_counter()
a = open_archive(sys.argv[1]); (li,) = load_image(a, a.images[0]); merge([li], archive=a)
print(li.entries[0].size, li.uncompressed_size, round(time.perf_counter() - t, 1))
{_PEAK}
"""


def test_gzip_bomb_as_one_big_member_streams_in_bounded_memory(tmp_path):
    """A tar member of 2 GiB of zeros (2 MB of gzip) is a legitimate layer (a big preallocated file):
    it is decompressed once, at about 1 GB/s, in bounded memory; 10 GiB would take about 10 s, and
    the user can cancel (checked between 64 MB steps). Measured peak: about 60 MB."""
    size = 2 * GIB
    p = docker_archive(tmp_path / "big.tar", [_zero_member_layer(size)])
    out, secs, peak = _run_child(_BIG_MEMBER_CHILD, str(p))
    member, total, _t = out.split()
    assert int(member) == size and int(total) == size + 512 + 1024
    assert peak < 150, f"peak {peak} MB"
    assert secs < 20


def _zero_member_layer(size: int) -> bytes:
    """A gzip layer holding one member of ``size`` zero bytes (a multiple of 64 MiB): one gzip member
    for the header, the same gzip of 64 MiB of zeros repeated, one for the end blocks."""
    chunk = 64 << 20
    assert size % chunk == 0
    field = b"%011o\0" % size if size < 8**11 else b"\x80" + size.to_bytes(11, "big")  # base-256 past 8 GiB
    head = gzip.compress(bytes(_ustar(b"disk.img", field)), mtime=0)
    return (
        head + gzip.compress(bytes(chunk), 9, mtime=0) * (size // chunk) + gzip.compress(bytes(1024), mtime=0)
    )


def test_zero_padding_after_a_gzip_layer(tmp_path):
    """Zeros after the last gzip member are padding, not a truncated member (and not an error)."""
    layer = _member("a", b"a") + bytes(1024)
    for pad in (1, 100, 70000):
        p = docker_archive(tmp_path / f"pad{pad}.tar", [gzip.compress(layer, mtime=0) + bytes(pad)])
        with open_archive(p) as a:
            (li,) = load_image(a, a.images[0])
            assert [e.path for e in li.entries] == ["a"]


def test_cancel_during_a_long_skip(tmp_path):
    """A single huge member is skipped in steps with a cancel check in between."""
    from layerscope.core.errors import Cancelled

    p = docker_archive(tmp_path / "big.tar", [_zero_member_layer(1 * GIB)])
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    t0 = time.perf_counter()
    with open_archive(p) as a, pytest.raises(Cancelled):
        load_image(a, a.images[0], cancelled=cancelled)
    assert time.perf_counter() - t0 < 1


# ---- JSON --------------------------------------------------------------------------------------------
def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [150, 990, 10_000])
@pytest.mark.parametrize("where", ["manifest", "config", "value"])
def test_deeply_nested_json(tmp_path, depth, where):
    """Nesting beyond Python's recursion limit (10,000) or beyond MAX_JSON_DEPTH (100): InvalidJSON."""
    layer = _member("a", b"a") + bytes(1024)
    if where == "manifest":
        p = docker_archive(tmp_path / "img.tar", [layer], manifest=_deep(depth))
    elif where == "config":
        p = docker_archive(tmp_path / "img.tar", [layer], config=_deep(depth))
    else:
        diff = "sha256:" + hashlib.sha256(layer).hexdigest()
        cfg = b'{"rootfs": {"diff_ids": ["%s"]}, "config": {"Labels": {"x": %s}}}' % (
            diff.encode(),
            _deep(depth),
        )
        p = docker_archive(tmp_path / "img.tar", [layer], config=cfg)
    with pytest.raises(InvalidJSON) as ei:
        open_archive(p)
    assert "nested" in _one_line(ei.value, p)


def test_json_over_the_size_limit(tmp_path):
    layer = _member("a", b"a") + bytes(1024)
    big = b'[{"Config": "config.json", "Layers": ["l0/layer.tar"], "x": "' + b"y" * (17 << 20) + b'"}]'
    p = docker_archive(tmp_path / "img.tar", [layer], manifest=big)
    with pytest.raises(InvalidJSON) as ei:
        open_archive(p)
    assert "up to 16 MB" in _one_line(ei.value, p)


def test_json_memory_estimate_limits_the_archive(tmp_path, monkeypatch):
    """``[{}, {}, ...]`` costs 25 times its size to parse; the archive's JSON has a memory budget."""
    monkeypatch.setattr(limits, "MAX_JSON_COST", 50 << 20)
    layer = _member("a", b"a") + bytes(1024)
    cfg = b'{"rootfs": {"diff_ids": []}, "history": [' + b"{}," * 400_000 + b"{}]}"
    p = docker_archive(tmp_path / "img.tar", [layer], config=cfg)
    with pytest.raises(InvalidJSON) as ei:
        open_archive(p)
    assert "MB of memory" in _one_line(ei.value, p)


@pytest.mark.parametrize(
    "entry",
    [
        {"Config": "config.json", "RepoTags": 5, "Layers": ["l0/layer.tar"]},
        {"Config": "config.json", "RepoTags": "abc", "Layers": ["l0/layer.tar"]},
        {"Config": "config.json", "RepoTags": [["x"]], "Layers": ["l0/layer.tar"], "LayerSources": 7},
    ],
)
def test_retyped_manifest_fields(tmp_path, entry):
    layer = _member("a", b"a") + bytes(1024)
    p = docker_archive(tmp_path / "img.tar", [layer], manifest=[entry])
    with open_archive(p) as a:
        assert a.images[0].tags == ()
        load_image(a, a.images[0])


def test_100k_layers_refused_10k_layers_fast(tmp_path):
    """A manifest naming 100,000 layers is refused (MAX_LAYERS 10,000; runtimes stop at 128); 10,000
    layers of one blob load, merge and analyse in a few seconds (nothing per layer is quadratic)."""
    layer = _member("etc/a", b"x" * 10) + _member("b", b"y") + bytes(1024)
    p = docker_archive(
        tmp_path / "many.tar",
        [layer],
        manifest=[{"Config": "config.json", "Layers": ["l0/layer.tar"] * 100_000}],
    )
    t0 = time.perf_counter()
    with pytest.raises(UnsupportedFormat) as ei:
        open_archive(p)
    assert "100,000 layers" in _one_line(ei.value, p)
    assert time.perf_counter() - t0 < 5
    p = docker_archive(
        tmp_path / "10k.tar",
        [layer],
        manifest=[{"Config": "config.json", "Layers": ["l0/layer.tar"] * 10_000}],
    )
    t0 = time.perf_counter()
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        dive_figures(layers)
        layerscope_figures(layers, tree)
    assert time.perf_counter() - t0 < 15


def test_index_fan_out_is_bounded(tmp_path):
    """Indexes naming one another 1000 times at each of 8 levels would be walked 1000^8 times; the walk
    stops after MAX_MANIFESTS descriptors (and each document is parsed once)."""
    docs: dict[str, bytes] = {}

    def put(doc: object) -> str:
        raw = json.dumps(doc).encode()
        d = hashlib.sha256(raw).hexdigest()
        docs[d] = raw
        return d

    mt = "application/vnd.oci.image.index.v1+json"
    child = put({"schemaVersion": 2, "manifests": []})
    for _ in range(8):
        child = put(
            {"schemaVersion": 2, "manifests": [{"mediaType": mt, "digest": f"sha256:{child}"}] * 1000}
        )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, raw in [
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", docs[child]),
            *[(f"blobs/sha256/{d}", raw) for d, raw in docs.items()],
        ]:
            ti = tarfile.TarInfo(name)
            ti.size = len(raw)
            tf.addfile(ti, io.BytesIO(raw))
    p = tmp_path / "fan.tar"
    p.write_bytes(buf.getvalue())
    t0 = time.perf_counter()
    with pytest.raises(LayerScopeError) as ei:
        open_archive(p)
    _one_line(ei.value, p)
    assert time.perf_counter() - t0 < 10


# ---- export ----------------------------------------------------------------------------------------
def test_layer_export_never_writes_through_the_images_whiteouts_txt(tmp_path):
    """The layer export writes its own WHITEOUTS.txt: a symlink of that name in the layer must not
    redirect it (it used to: the canary below was overwritten)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary"
    canary.write_text("keep\n")
    layer = Layer([Symlink("WHITEOUTS.txt", str(canary)), Whiteout("gone"), File("f", b"f")])
    p = build(Image([Layer([File("gone", b"x")]), layer]), tmp_path / "img.tar", "docker-legacy")
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        items, deletes = layer_items(tree, 1)
        res = export(a, tree, items, tmp_path / "out", deletes=deletes)
    assert canary.read_text() == "keep\n"
    assert os.readlink(tmp_path / "out" / "WHITEOUTS.txt") == str(canary)
    assert (tmp_path / "out" / "WHITEOUTS-1.txt").read_text() == "/gone\n"
    assert any("WHITEOUTS-1.txt" in w for w in res.warnings)


def test_hardlinks_to_one_lower_file_in_a_layer_export(tmp_path):
    """Two hardlinks in a layer to a file of a lower layer: the data is written once, the second
    link points at it (this used to fail: the data of one member cannot be read twice in a pass)."""
    img = Image([Layer([File("x", b"data")]), Layer([Hardlink("b", "x"), Hardlink("c", "x")])])
    p = build(img, tmp_path / "img.tar", "docker-legacy")
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        items, _deletes = layer_items(tree, 1)
        export(a, tree, items, tmp_path / "out")
        export(a, tree, items, tmp_path / "out.tar")
    assert (tmp_path / "out" / "b").read_bytes() == (tmp_path / "out" / "c").read_bytes() == b"data"
    assert os.stat(tmp_path / "out" / "b").st_ino == os.stat(tmp_path / "out" / "c").st_ino


def test_layer_export_hardlink_to_a_file_under_a_file(tmp_path):
    """A layer holding a file "a", a file "a/b" and a hardlink to "a/b": "a/b" cannot be written, and
    the link is skipped (its lstat used to raise ENOTDIR and abort the export; found by the long fuzz)."""
    layer = Layer([File("a", b"a"), RawMember(name="a/b", data=b"b"), Hardlink("h", "a/b")])
    p = build(Image([layer]), tmp_path / "img.tar", "docker-legacy")
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        items, deletes = layer_items(tree, 0)
        res = export(a, tree, items, tmp_path / "out", deletes=deletes)
    assert (tmp_path / "out" / "a").read_bytes() == b"a"
    assert any("hardlink target missing" in s for s in res.skipped)


def test_export_of_impossible_numbers_and_names(tmp_path):
    """Owners, times and device numbers no system holds, NUL in names, 300-byte names: skipped or
    kept without the attribute, never a crash."""
    layer = Layer(
        [
            RawMember(name="owner", data=b"x", pax_headers={"uid": str(1 << 40), "mtime": "1e18"}),
            RawMember(name="neg", data=b"x", pax_headers={"uid": "-5"}),
            RawMember(name="nul", data=b"x", pax_headers={"path": "a\x00b"}),
            RawMember(name="n" * 300, data=b"x"),
            RawMember(name="dev", type=tarfile.CHRTYPE, devmajor=0o7777777, devminor=0o7777777),
            File("ok", b"ok"),
        ]
    )
    p = build(Image([layer]), tmp_path / "img.tar", "docker-legacy")
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        assert any("NUL" in w for w in layers[0].warnings)
        tree = merge(layers, archive=a)
        res = export(a, tree, merged_items(tree), tmp_path / "out")
        export(a, tree, merged_items(tree), tmp_path / "out.tar.gz")
    assert (tmp_path / "out" / "ok").read_bytes() == b"ok"
    assert any("too long" in s for s in res.skipped)


def _sparse_layer(realsize: int) -> bytes:
    """A PAX sparse 1.0 file (as GNU tar writes it): extents AAAA at 0 and BBBB at 32, holes around."""
    smap = b"2\n0\n4\n32\n4\n"
    body = smap + bytes(-len(smap) % 512) + b"AAAABBBB"
    pax = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": "sp",
        "GNU.sparse.realsize": str(realsize),
    }
    return _member("GNUSparseFile.0/sp", body, pax_headers=pax) + _member("ok", b"ok") + bytes(1024)


def test_sparse_files_export_with_their_holes(tmp_path):
    """A sparse file exports with its holes: as holes in a folder, as zeros in a tar (this used to fail:
    the tar member was given the real size but only the stored bytes)."""
    p = docker_archive(tmp_path / "img.tar", [_sparse_layer(64)])
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        sp = tree.nodes["sp"].entry
        assert sp is not None and sp.size == 64
        want = b"AAAA" + bytes(28) + b"BBBB" + bytes(28)
        assert read_content(a, layers[0].desc, sp) == want
        export(a, tree, merged_items(tree), tmp_path / "out")
        export(a, tree, merged_items(tree), tmp_path / "out.tar")
    assert (tmp_path / "out" / "sp").read_bytes() == want
    with tarfile.open(tmp_path / "out.tar") as t:
        f = t.extractfile("sp")
        assert f is not None and f.read() == want


@pytest.mark.parametrize(
    ("records", "want"),
    [
        ({"GNU.sparse.realsize": "12"}, b"AAAABBBB" + bytes(4)),  # no map: stored bytes first
        ({"GNU.sparse.realsize": "12", "GNU.sparse.map": "0,4,8,4"}, b"AAAA" + bytes(4) + b"BBBB"),
    ],
)
def test_old_pax_sparse_formats_export_whole(tmp_path, records, want):
    """PAX sparse 0.0/0.1 headers: the content is what the map (or, lacking one, the stored bytes)
    says, in every export (a tar export used to fail: 12 bytes announced, 8 given)."""
    layer = _member("old", b"AAAABBBB", pax_headers=records) + bytes(1024)
    p = docker_archive(tmp_path / "img.tar", [layer])
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        assert read_content(a, layers[0].desc, layers[0].entries[0]) == want
        export(a, tree, merged_items(tree), tmp_path / "out")
        export(a, tree, merged_items(tree), tmp_path / "out.tar")
    assert (tmp_path / "out" / "old").read_bytes() == want
    with tarfile.open(tmp_path / "out.tar") as t:
        f = t.extractfile("old")
        assert f is not None and f.read() == want


def test_huge_sparse_file_exports_without_filling_the_disk(tmp_path):
    """A sparse file claiming 100 GB (8 bytes stored): a folder export makes a 100 GB file of holes
    (no disk used); a tar export would write 100 GB of zeros, so it skips the file and says so."""
    p = docker_archive(tmp_path / "img.tar", [_sparse_layer(100 * 10**9)])
    with open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        export(a, tree, merged_items(tree), tmp_path / "out")
        res = export(a, tree, merged_items(tree), tmp_path / "out.tar")
    st = os.stat(tmp_path / "out" / "sp")
    assert st.st_size == 100 * 10**9 and st.st_blocks * 512 < 1 << 20
    assert any("too large" in s for s in res.skipped)
    with tarfile.open(tmp_path / "out.tar") as t:
        assert t.getnames() == ["ok"]


# ---- the command line: exit 2 and one line for every negative fixture ----------------------------------
def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("rel", sorted(NEGATIVE))
@pytest.mark.parametrize("command", ["inspect", "ls", "ci"])
def test_cli_negative_fixture_exit_2_one_line(capsys, rel, command, monkeypatch, tmp_path):
    need_shared()
    monkeypatch.chdir(tmp_path)  # no .dive-ci around
    code, out, err = _cli(capsys, command, str(PEER / rel))
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("layerscope: ") and str(PEER / rel) in lines[0]
    assert NEGATIVE[rel] in lines[0]


def _every_peer_fixture() -> list[str]:
    """Every archive-like path of the peer corpus: tar/compressed files, and folders holding an
    index.json or a manifest.json (SOURCES.md describes them)."""
    if not PEER.is_dir():
        return []
    out = []
    for p in sorted(PEER.rglob("*")):
        rel = p.relative_to(PEER).as_posix()
        if p.is_dir():
            if (p / "index.json").exists() or (p / "manifest.json").exists():
                out.append(rel)
        elif "/blobs/" not in rel and p.name not in ("SOURCES.md", "index.json", "oci-layout"):
            out.append(rel)
    return out


def test_cli_every_peer_fixture_exits_0_or_2(capsys):
    """No file of the peer corpus, whatever it is (JSON samples, text, blobs' neighbours), makes the
    command line fail with an internal error (exit 1)."""
    need_shared()
    fixtures = _every_peer_fixture()
    assert len(fixtures) > 60
    for rel in fixtures:
        code, _out, err = _cli(capsys, "inspect", str(PEER / rel))
        assert code in (0, 2), f"{rel}: {err}"
        if code == 2:
            assert len(err.strip().splitlines()) == 1, f"{rel}: {err}"
            if rel in POSITIVE:
                pytest.fail(f"{rel} is a positive fixture but failed: {err}")


def test_cli_subprocess_for_a_few_negatives():
    """The installed entry point behaves the same in a fresh process (stdout empty, one line)."""
    need_shared()
    for rel in [
        "containers__image/pkg/compression/fixtures/Hello.xz",
        "regclient__regclient/testdata/layer.tar",
    ]:
        r = subprocess.run(
            [sys.executable, "-m", "layerscope.core.cli", "ls", str(PEER / rel)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2 and r.stdout == ""
        assert len(r.stderr.strip().splitlines()) == 1
