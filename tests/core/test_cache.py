"""The persistent cache (core/cache): the same output cold, warm and without it on every layout of the
corpus; exact round trips; damaged, foreign, stale or misplaced files ignored and rebuilt; LRU
eviction under the limit; atomic writes; ``layerscope cache info|clear``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from layerscope.core import cli
from layerscope.core.archive.open import open_archive
from layerscope.core.cache import settings
from layerscope.core.cache.columns import CacheInvalid, PayloadReader, PayloadWriter, Unencodable
from layerscope.core.cache.fileformat import HEADER, CacheKind, seal
from layerscope.core.cache.folder import TEMP_AGE, TEMP_PREFIX, CacheFolder
from layerscope.core.cache.layers import StoredLayer, decode_layer, encode_layer
from layerscope.core.cache.store import default_store
from layerscope.core.cache.version import code_version
from layerscope.core.entry import Entry, EntryExtra
from layerscope.core.kinds import EntryType
from layerscope.core.layers.index import LayerCache, load_image
from layerscope.core.session import load
from tests.conftest import PEER, REAL, need_shared, real_archives
from tests.core.test_archive_peer import POSITIVE


def _layouts() -> list[Path]:
    peers = [PEER / rel for rel in sorted(POSITIVE)] if PEER.is_dir() else []
    return [*real_archives(), *peers]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


COMMANDS = (["inspect", "--json"], ["ls", "--json"], ["ci", "--json"])


@pytest.mark.parametrize("archive", _layouts(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_same_output_cold_warm_and_without_cache(
    archive: Path, cache_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    need_shared()
    for command in COMMANDS:
        argv = [*command, str(archive)]
        without = _run([*argv, "--no-cache"], capsys)
        cold = _run(argv, capsys)
        warm = _run(argv, capsys)
        assert cold == without, f"{command}: cold cache differs"
        assert warm == without, f"{command}: warm cache differs"
    assert not list(cache_home.glob(f"{TEMP_PREFIX}*"))


def test_no_cache_writes_nothing(cache_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need_shared()
    _run(["ci", "--json", "--no-cache", str(real_archives()[0])], capsys)
    assert not cache_home.exists() or not any(cache_home.iterdir())


def test_warm_load_reads_the_cache(cache_home: Path) -> None:
    """A second load builds nothing: the layers and both figure sets come from the files."""
    need_shared()
    path = REAL / "docker20-edge.save.tar"
    with open_archive(path) as a:
        first = load(a, a.images[0])
    assert first.cache.verified and len(list(cache_home.glob("layer-*"))) >= 1
    assert list(cache_home.glob("figures-*"))
    with open_archive(path) as a:
        second = load(a, a.images[0])
    assert [li.entries for li in second.layers] == [li.entries for li in first.layers]
    assert second.dive == first.dive and second.figures == first.figures


def _entries() -> list[Entry]:
    x = EntryExtra(
        xattrs={"user.k": b"\x00\xff", "security.capability": b"", "user.\udcff": b"v"},
        uname="root",
        gname="wheel",
        devmajor=8,
        devminor=1,
        sparse=((0, 10), (4096, 5)),
        stored_size=15,
        raw_name="./a//b\udc80",
    )
    return [
        Entry("a", EntryType.DIR, 0, 0o755, 0, 0, -1, None, 512, None),
        Entry("a/b\udc80", EntryType.FILE, 1 << 40, 0o644, 1 << 31, 65534, 1 << 33, None, 1024, x),
        Entry("a/l", EntryType.SYMLINK, 0, 0o777, 0, 0, 0, "", 2048, None),
        Entry("a/h", EntryType.HARDLINK, 0, 0o644, 0, 0, 0, "a/b\udc80", 2560, EntryExtra(uname="")),
        Entry("a/gone", EntryType.WHITEOUT, 0, 0, 0, 0, 0, None, 3072, None),
        Entry("a", EntryType.OPAQUE, 0, 0, 0, 0, 0, None, 3584, EntryExtra(xattrs={})),
        Entry("dev/null", EntryType.CHAR, 0, 0o666, 0, 0, 0, None, 4096, EntryExtra(devmajor=1, devminor=3)),
    ]


def test_layer_round_trip_is_exact() -> None:
    meta = [Entry(".wh..wh..opq", EntryType.FILE, 0, 0, 0, 0, 0, None, 0, None)]
    stored = StoredLayer(_entries(), 9, meta, 1 << 20, ["a warning", "é \udcff"], (7, 12345))
    back = decode_layer(encode_layer(stored))
    assert back == stored
    for a, b in zip(back.entries, stored.entries, strict=True):
        assert type(a) is Entry and a.type is b.type
        assert a.extra == b.extra and (a.link is None) == (b.link is None)
    empty = StoredLayer([], 0, [], 0, [], (0, 0))
    assert decode_layer(encode_layer(empty)) == empty


def test_values_the_format_cannot_hold_are_not_cached() -> None:
    huge = Entry("f", EntryType.FILE, 1 << 64, 0, 0, 0, 0, None, 0, None)
    with pytest.raises(Unencodable):
        encode_layer(StoredLayer([huge], 1, [], 0, [], (1, 1)))
    w = PayloadWriter()
    with pytest.raises(Unencodable):
        w.strings(["a\x00b"])


def test_reader_refuses_inconsistent_payloads() -> None:
    w = PayloadWriter()
    w.ints([1, 2, 3])
    with pytest.raises(CacheInvalid):
        PayloadReader(w.getvalue()).ints(4)
    with pytest.raises(CacheInvalid):
        PayloadReader(w.getvalue()[:-1]).ints()
    with pytest.raises(CacheInvalid):
        decode_layer(b"")


def _one_layer_file(cache_home: Path) -> tuple[Path, list[list[Entry]]]:
    """Index a small real image with the cache; return its largest layer file and the entries."""
    path = REAL / "docker20-edge.save.tar"
    with open_archive(path) as a:
        ref = [li.entries for li in load_image(a, a.images[0], cache=LayerCache(store=None))]
        load_image(a, a.images[0], cache=LayerCache())
    files = sorted(cache_home.glob("layer-*"), key=lambda p: p.stat().st_size)
    return files[-1], ref


def _check_rebuilt(f: Path, ref: list[list[Entry]]) -> None:
    """Loading ignores the damaged file, gives the same entries, and replaces the file by a good one."""
    path = REAL / "docker20-edge.save.tar"
    with open_archive(path) as a:
        got = [li.entries for li in load_image(a, a.images[0], cache=LayerCache())]
    assert got == ref
    st = f.stat()
    assert st.st_uid == os.getuid() and not st.st_mode & 0o022
    data = f.read_bytes()
    assert len(data) > HEADER.size


def test_fuzz_damaged_cache_files_are_ignored_and_rebuilt(cache_home: Path) -> None:
    need_shared()
    f, ref = _one_layer_file(cache_home)
    good = f.read_bytes()
    step = max(1, len(good) // 97)
    for n in [*range(0, min(len(good), 300)), *range(300, len(good), step)]:
        f.write_bytes(good[:n])
        _check_rebuilt(f, ref)
    for i in [*range(0, HEADER.size), *range(HEADER.size, len(good), max(1, len(good) // 61))]:
        bad = bytearray(good)
        bad[i] ^= 0x5A
        f.write_bytes(bytes(bad))
        _check_rebuilt(f, ref)
        assert f.read_bytes() == good  # rebuilt byte for byte


def test_stale_misplaced_and_foreign_files_are_ignored(cache_home: Path) -> None:
    need_shared()
    f, ref = _one_layer_file(cache_home)
    good = f.read_bytes()
    magic, version, kind, code, key_d, length, digest = HEADER.unpack_from(good)
    payload = good[HEADER.size :]
    variants = {
        "format version": HEADER.pack(magic, version + 1, kind, code, key_d, length, digest),
        "code version": HEADER.pack(magic, version, kind, bytes(32), key_d, length, digest),
        "kind": HEADER.pack(magic, version, CacheKind.FIGURES, code, key_d, length, digest),
        "other key": HEADER.pack(magic, version, kind, code, bytes(32), length, digest),
        "length": HEADER.pack(magic, version, kind, code, key_d, length + 1, digest),
    }
    for what, head in variants.items():
        f.write_bytes(head + payload)
        _check_rebuilt(f, ref)
        assert f.read_bytes() == good, what
    # a whole valid file for another key, copied under this key's name
    other = seal(CacheKind.LAYER, code_version(), "layer sha256:" + "0" * 64, payload)
    f.write_bytes(other)
    _check_rebuilt(f, ref)
    assert f.read_bytes() == good
    # writable by the group or others: someone else may have written it
    for mode in (0o660, 0o602):
        f.chmod(mode)
        _check_rebuilt(f, ref)
        assert not f.stat().st_mode & 0o022
    # a symlink in its place is not followed
    f.unlink()
    target = cache_home / "elsewhere"
    target.write_bytes(good)
    f.symlink_to(target)
    _check_rebuilt(f, ref)
    assert not f.is_symlink()


def test_foreign_owner_is_ignored(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file owned by another user (simulated: we pretend to be uid+1) is never read."""
    need_shared()
    f, _ref = _one_layer_file(cache_home)
    key_files = list(cache_home.glob("layer-*"))
    folder = CacheFolder(cache_home, 1 << 30)
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    from layerscope.core.cache import folder as folder_mod

    assert all(folder_mod._read_own(p) is None for p in key_files)
    monkeypatch.setattr(os, "getuid", lambda: real_uid)
    assert folder_mod._read_own(f) is not None
    assert folder.read(CacheKind.LAYER, "nothing", code_version()) is None


def _fill(folder: CacheFolder, names: list[str], size: int) -> None:
    t = time.time() - 1000
    for i, n in enumerate(names):
        assert folder.write(CacheKind.LAYER, n, code_version(), b"x" * size)
        os.utime(folder.file(CacheKind.LAYER, n), (t + i, t + i))


def test_lru_eviction_keeps_the_size_under_the_limit(tmp_path: Path) -> None:
    per_file = HEADER.size + 1000
    folder = CacheFolder(tmp_path / "c", 10 * per_file)
    _fill(folder, [f"k{i}" for i in range(10)], 1000)
    assert folder.info().entries == 10
    # k0 is the oldest, but reading it makes it the most recently used
    assert folder.read(CacheKind.LAYER, "k0", code_version()) is not None
    folder.write(CacheKind.LAYER, "new1", code_version(), b"y" * 1000)
    folder.write(CacheKind.LAYER, "new2", code_version(), b"y" * 1000)
    info = folder.info()
    assert info.total_bytes <= folder.limit and info.entries == 10
    present = {
        n for n in ["k0", *(f"k{i}" for i in range(1, 10))] if folder.file(CacheKind.LAYER, n).exists()
    }
    assert "k0" in present and "k1" not in present and "k2" not in present and "k3" in present
    folder.evict(3 * per_file)
    assert folder.info().entries == 3
    assert folder.file(CacheKind.LAYER, "new2").exists()


def test_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    assert settings.parse_size("2G") == 2 << 30 and settings.parse_size("500MB") == 500 << 20
    assert settings.parse_size("1.5GiB") == 3 << 29 and settings.parse_size("1048576") == 1 << 20
    with pytest.raises(ValueError):
        settings.parse_size("lots")
    monkeypatch.setenv(settings.MAX_ENV, "10M")
    assert settings.max_size() == 10 << 20
    monkeypatch.setenv(settings.MAX_ENV, "0")
    assert not settings.enabled() and default_store() is None
    assert LayerCache().store is None


def test_atomic_write_and_leftover_temp_files(tmp_path: Path) -> None:
    folder = CacheFolder(tmp_path / "c", 1 << 20)
    assert folder.write(CacheKind.LAYER, "k", code_version(), b"payload")
    old = folder.path / f"{TEMP_PREFIX}dead.lsc"
    fresh = folder.path / f"{TEMP_PREFIX}writing.lsc"
    old.write_bytes(b"half a file")
    fresh.write_bytes(b"half a file")
    past = time.time() - TEMP_AGE - 10
    os.utime(old, (past, past))
    assert folder.info().entries == 1  # temporary files are no entries
    assert not old.exists() and fresh.exists()  # a leftover goes; a write under way stays
    assert bytes(folder.read(CacheKind.LAYER, "k", code_version()) or b"") == b"payload"
    assert not [p for p in folder.path.iterdir() if p.name.startswith(TEMP_PREFIX) and p != fresh]
    assert folder.clear() == 1 and not any(folder.path.iterdir())


def test_unusable_folder_means_no_cache_and_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    need_shared()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = str(REAL / "docker20-edge.save.tar")
    with caplog.at_level("WARNING", logger="layerscope.cache"):
        a = _run(["ci", "--json", path], capsys)
        b = _run(["ci", "--json", path], capsys)
    assert a[0] == b[0] != 2 and a[1] == b[1]
    assert len([r for r in caplog.records if "cache folder" in r.getMessage()]) == 1
    assert default_store() is None


def test_cache_info_and_clear(cache_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need_shared()
    code, out, _ = _run(["cache", "info", "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["entries"] == 0 and info["limit_bytes"] == settings.DEFAULT_MAX
    assert info["folder"] == str(cache_home)
    _run(["ci", "--json", str(REAL / "docker20-edge.save.tar")], capsys)
    info = json.loads(_run(["cache", "info", "--json"], capsys)[1])
    assert info["entries"] >= 2 and info["total_bytes"] > 0 and info["oldest_use"] <= info["newest_use"]
    code, out, _ = _run(["cache", "info"], capsys)
    assert code == 0 and str(cache_home) in out
    code, out, _ = _run(["cache", "clear"], capsys)
    assert code == 0 and f"removed {info['entries']}" in out
    assert json.loads(_run(["cache", "info", "--json"], capsys)[1])["entries"] == 0


def test_limit_set_by_the_app(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.MAX_ENV, "10M")
    settings.set_max_size(1 << 20)
    try:
        assert settings.max_size() == 1 << 20
        store = default_store()
        assert store is not None and store.folder.limit == 1 << 20
    finally:
        settings.set_max_size(None)
    assert settings.max_size() == 10 << 20


def test_ci_parts_round_trip_and_damage() -> None:
    from layerscope.core.cache.ci import CiParts, decode_ci, encode_ci
    from layerscope.core.dive_figures import DiveFigures

    dive = DiveFigures(0.5, 10, 0.25, 100, 40, [], [])
    parts = CiParts(dive, '{"efficiency": 0.5, "path": "/é\\u0000"}', '{"wasted_files": []}')
    assert decode_ci(encode_ci(parts)) == parts
    payload = encode_ci(parts)
    for cut in (0, 5, len(payload) - 1):
        with pytest.raises(CacheInvalid):
            decode_ci(payload[:cut])
    with pytest.raises(Unencodable):
        encode_ci(CiParts(dive, "\udcff", "{}"))


def test_warm_ci_json_reads_one_file(cache_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After one ``ci --json``, the next reads the ci entry alone: no layer index, no figures file."""
    need_shared()
    path = str(REAL / "docker20-edge.save.tar")
    first = _run(["ci", "--json", path], capsys)
    for f in cache_home.glob("layer-*"):
        f.unlink()
    for f in cache_home.glob("figures-*"):
        f.unlink()
    assert _run(["ci", "--json", path], capsys) == first
    assert _run(["ci", "--json", "--no-cache", path], capsys) == first
