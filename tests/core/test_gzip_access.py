"""Random access into gzip layers: checkpoints made by the first pass, reads at any offset, fallbacks."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from layerscope.core.archive import gzip_index
from layerscope.core.archive.compression import GzipReader
from layerscope.core.archive.container import Blob, DirContainer
from layerscope.core.archive.gzip_index import (
    GzipCheckpoints,
    GzipSeeker,
    IndexingGzipReader,
    export_index,
    import_index,
)
from layerscope.core.archive.open import open_archive
from layerscope.core.errors import CorruptArchive
from layerscope.core.kinds import Compression, EntryType
from layerscope.core.layers import seekable
from layerscope.core.layers.content import read_content
from layerscope.core.layers.index import LayerCache, load_image
from layerscope.core.layers.source import layer_blob, layer_source
from layerscope.core.tar.source import BufferSource, StreamSource

REAL = Path("/work/shared/corpus/real")
GZIP_ARCHIVES = sorted(p for p in REAL.glob("*.oci.tar") if "zstd" not in p.name) if REAL.is_dir() else []

pytestmark = pytest.mark.skipif(not gzip_index.available(), reason="rapidgzip is not installed")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    seekable.forget_all()
    monkeypatch.setattr(gzip_index, "MIN_BLOB", 0)  # the corpus's layers are small (and tiny
    monkeypatch.setattr(gzip_index, "MAX_RATIO", 1 << 20)  # tars are mostly zero padding)


def _blob(tmp_path: Path, data: bytes, name: str = "b.gz") -> Blob:
    (tmp_path / name).write_bytes(data)
    return DirContainer(tmp_path).blob(name)


def _first_pass(blob: Blob) -> tuple[bytes, list[GzipCheckpoints]]:
    got: list[GzipCheckpoints] = []
    r = IndexingGzipReader(blob, "blob", None, got.append)
    parts = []
    while b := r.read(1 << 20):
        parts.append(b)
    return b"".join(parts), got


def _plain(blob: Blob) -> bytes:
    return GzipReader(blob.open()).read(-1)


def _data(n: int, seed: int) -> bytes:
    """Compressible but not trivial bytes (words from a small vocabulary, and some noise)."""
    rnd = random.Random(seed)
    words = [rnd.randbytes(rnd.randrange(2, 12)) for _ in range(500)]
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) if rnd.random() < 0.97 else rnd.randbytes(64)
    return bytes(out[:n])


def _check_offsets(blob: Blob, cp: GzipCheckpoints, expect: bytes, n: int = 40) -> None:
    rnd = random.Random(1)
    seeker = GzipSeeker(blob, cp)
    try:
        offsets = [0, len(expect) - 1, len(expect) // 2] + [rnd.randrange(len(expect)) for _ in range(n)]
        for off in offsets:
            seeker.seek(off)
            want = expect[off : off + 70_000]
            got = b""
            while len(got) < len(want) and (b := seeker.read(len(want) - len(got))):
                got += b
            assert got == want, off
    finally:
        seeker.close()


@pytest.mark.parametrize("archive", GZIP_ARCHIVES, ids=lambda p: p.name)
def test_random_reads_on_real_gzip_layers_equal_the_stream(archive: Path) -> None:
    a = open_archive(archive)
    layers = {d.key: d for im in a.images for d in im.layers if d.compression is Compression.GZIP}
    assert layers
    for d in layers.values():
        blob = layer_blob(a, d)
        data, got = _first_pass(blob)
        assert data == _plain(blob)
        assert len(got) == 1 and got[0].size == len(data) and got[0].stored_size == blob.size
        _check_offsets(blob, got[0], data)


def test_random_reads_on_a_multi_member_gzip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gzip_index, "CHUNK", 1 << 20)
    parts = [_data(n, seed) for seed, n in enumerate((3 << 20, 1, 5 << 20, 0, 7 << 20))]
    blob = _blob(tmp_path, b"".join(gzip.compress(p, 6) for p in parts))
    data, got = _first_pass(blob)
    assert data == b"".join(parts)
    assert len(got) == 1
    _check_offsets(blob, got[0], data, 80)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) - 1000],  # truncated
        lambda b: b[:200] + bytes(b[200] ^ 0xFF for _ in range(1)) + b[201:],  # corrupt
        lambda b: b + b"garbage",
    ],
    ids=["truncated", "corrupt", "garbage-after"],
)
def test_a_damaged_gzip_gives_the_plain_streams_error(tmp_path: Path, damage: object) -> None:
    raw = damage(gzip.compress(_data(2 << 20, 3)))  # type: ignore[operator]
    blob = _blob(tmp_path, raw)
    with pytest.raises(CorruptArchive) as plain:
        _plain(blob)
    with pytest.raises(CorruptArchive) as fast:
        _first_pass(blob)
    assert fast.value.message == plain.value.message
    assert "\n" not in fast.value.message


def test_zero_padding_after_gzip_is_accepted_without_checkpoints(tmp_path: Path) -> None:
    data = _data(1 << 20, 4)
    blob = _blob(tmp_path, gzip.compress(data) + bytes(4096))
    got, cps = _first_pass(blob)
    assert got == data and cps == []


def test_export_import_round_trip_and_damaged_index_data_is_ignored(tmp_path: Path) -> None:
    blob = _blob(tmp_path, gzip.compress(_data(3 << 20, 5)))
    data, (cp,) = _first_pass(blob)
    sealed = export_index(cp)
    assert import_index(sealed, blob.size) == cp
    assert import_index(sealed, blob.size + 1) is None  # another blob
    for bad in (
        sealed[:-1],
        sealed[:10],
        b"",
        sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:],
        b"x" * 500,
    ):
        assert import_index(bad, blob.size) is None
    _check_offsets(blob, import_index(sealed, blob.size) or cp, data, 5)


def _last_file(archive: Path) -> tuple[object, object, object]:
    a = open_archive(archive)
    idx = load_image(a, a.images[0], cache=LayerCache(store=None), workers=1)  # a first pass
    gz = [li for li in idx if li.desc.compression is Compression.GZIP]
    li = max(gz, key=lambda li: li.desc.size)
    last = [e for e in li.entries if e.type is EntryType.FILE][-1]
    return a, li.desc, last


@pytest.mark.parametrize("archive", GZIP_ARCHIVES, ids=lambda p: p.name)
def test_cat_of_the_last_file_equals_cat_without_checkpoints(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, desc, last = _last_file(archive)
    assert seekable.seekable_source(a, desc) is not None  # type: ignore[arg-type]
    fast = read_content(a, desc, last)  # type: ignore[arg-type]
    seekable.forget_all()
    monkeypatch.setattr(seekable, "_from_store", lambda *_a: None)
    assert seekable.seekable_source(a, desc) is None  # type: ignore[arg-type]
    assert read_content(a, desc, last) == fast  # type: ignore[arg-type]


def test_checkpoints_come_back_from_the_persistent_cache_and_bad_ones_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layerscope.core.cache.fileformat import CacheKind
    from layerscope.core.cache.keys import layer_key
    from layerscope.core.cache.store import default_store
    from layerscope.core.cache.version import code_version

    if not GZIP_ARCHIVES:
        pytest.skip("no real corpus")
    store = default_store()
    if store is None:
        pytest.skip("the cache is off")
    a, desc, last = _last_file(GZIP_ARCHIVES[0])
    expect = read_content(a, desc, last)  # type: ignore[arg-type]
    blob = layer_blob(a, desc)  # type: ignore[arg-type]
    cp = seekable.kept(a, desc, blob.size)  # type: ignore[arg-type]
    assert cp is not None
    key = seekable._KEY_PREFIX + (layer_key(desc) or "")  # type: ignore[arg-type]
    assert store.folder.write(CacheKind.LAYER, key, code_version(), export_index(cp))
    seekable.forget_all()
    assert seekable.seekable_source(a, desc) is not None  # type: ignore[arg-type]
    assert read_content(a, desc, last) == expect  # type: ignore[arg-type]
    seekable.forget_all()
    bad = export_index(cp)
    assert store.folder.write(CacheKind.LAYER, key, code_version(), bad[: len(bad) // 2])
    assert seekable.seekable_source(a, desc) is None  # type: ignore[arg-type]
    assert read_content(a, desc, last) == expect  # type: ignore[arg-type]


def test_only_large_blobs_of_an_ordinary_ratio_get_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gzip_index, "MIN_BLOB", 1 << 20)
    monkeypatch.setattr(gzip_index, "MAX_RATIO", 16)
    ordinary = _blob(tmp_path, gzip.compress(_data(4 << 20, 6), 1), "a.gz")
    assert ordinary.size > 1 << 20 and gzip_index.worth_indexing(ordinary)
    bomb = _blob(tmp_path, gzip.compress(bytes(1 << 30), 1), "b.gz")  # 1 GiB of zeros: about 1 MB
    assert bomb.size > 1 << 20 and not gzip_index.worth_indexing(bomb)
    small = _blob(tmp_path, gzip.compress(_data(1 << 20, 7)), "c.gz")
    assert not gzip_index.worth_indexing(small)


def test_zstd_and_plain_layers_keep_their_paths() -> None:
    zstd = REAL / "umoci-edge.zstd.oci.tar"
    plain = REAL / "umoci-edge.docker.tar"
    if not (zstd.exists() and plain.exists()):
        pytest.skip("no real corpus")
    a = open_archive(zstd)
    for d in a.images[0].layers:
        assert d.compression is Compression.ZSTD
        src = layer_source(a, d)
        assert isinstance(src, StreamSource) and seekable.seekable_source(a, d) is None
    b = open_archive(plain)
    for d in b.images[0].layers:
        assert isinstance(layer_source(b, d), BufferSource) and seekable.seekable_source(b, d) is None
