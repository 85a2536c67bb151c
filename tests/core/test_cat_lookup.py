"""``cat`` from the cache's path tables (usecases/files.py, cache/lookup.py): the same node, entry and
error as the full merge, for every path of random layer stacks, of the merge table's cases and of
the real corpus; entries built from a payload equal decode_layer's."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.archive.records import LayerDesc
from layerscope.core.cache.layers import StoredLayer, decode_layer, encode_layer
from layerscope.core.cache.lookup import LayerPaths
from layerscope.core.entry import Entry, EntryExtra
from layerscope.core.errors import LayerScopeError
from layerscope.core.kinds import Compression, EntryType
from layerscope.core.layers.index import LayerIndex, load_image
from layerscope.core.merge import merge
from layerscope.core.paths import ancestors
from layerscope.core.usecases import files
from tests.conftest import need_shared, real_archives
from tests.core.test_merge_table import CASES

T = EntryType
_ARCHIVE = SimpleNamespace(path="image.tar", label="image.tar")


class _Layers:
    """What ``files._CachedLayers`` gives the lookups, from payloads made here."""

    def __init__(self, layers: list[LayerIndex]) -> None:
        self.descs = [li.desc for li in layers]
        self._paths = [
            LayerPaths(encode_layer(StoredLayer(li.entries, len(li.entries), [], 0, [], (0, 0))))
            for li in layers
        ]

    def get(self, i: int) -> LayerPaths:
        return self._paths[i]


def _stack(layers: list[list[Entry]]) -> list[LayerIndex]:
    media = "application/vnd.oci.image.layer.v1.tar"
    return [
        LayerIndex(LayerDesc(i, None, None, None, media, Compression.NONE, 0), es, len(es), [], 0, [])
        for i, es in enumerate(layers)
    ]


def _outcome(fn: Callable[..., files.FoundFile], *args: object) -> tuple[object, ...]:
    try:
        found = fn(*args)
    except LayerScopeError as exc:
        return ("error", exc.message)
    return ("found", tuple(found.entry), found.layer)


def _check_stack(layers: list[LayerIndex], probes: set[str]) -> None:
    lazy_layers = _Layers(layers)
    for top in range(len(layers)):
        tree = merge(layers, upto=top)
        lazy = files._LazyNodes(lazy_layers, top)  # type: ignore[arg-type]
        for q in sorted(probes):
            want = tree.nodes.get(q)
            got = lazy.get(q)
            assert (want is None) == (got is None), (top, q)
            if want is not None and got is not None:
                assert (want.entry, want.layer) == (got.entry, got.layer), (top, q)
    for top in [None, *range(len(layers))]:
        for q in sorted(probes):
            got_found = _outcome(files._found, _ARCHIVE, lazy_layers, q, top)
            assert got_found == _outcome(files.find_file, _ARCHIVE, layers, q, top), (top, q)


def _probes(layers: list[LayerIndex]) -> set[str]:
    out = {"", "nothing", "a/nothing"}
    for li in layers:
        for e in li.entries:
            out.add(e.path)
            out.update(ancestors(e.path))
            if e.link:
                out.add(e.link.strip("/"))
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_merge_table_cases(name: str) -> None:
    layers = _stack(CASES[name].layers)
    _check_stack(layers, _probes(layers))


_PATHS = ["a", "a/b", "a/b/c", "a/b/c/d", "a/x", "a/b/y", "b", "b/z", "c", "ab", "a/bc", "a/b/cd"]


def _random_entry(rng: random.Random, offset: int) -> Entry:
    p = rng.choice(_PATHS)
    kind = rng.choice([T.FILE, T.FILE, T.DIR, T.DIR, T.SYMLINK, T.HARDLINK, T.WHITEOUT, T.OPAQUE])
    link = None
    if kind is T.SYMLINK:
        link = rng.choice(["a", "/a/b", "../b", "c", "a/b/c", "x", "ab", "/a/bc/../b"])
    elif kind is T.HARDLINK:
        link = rng.choice(_PATHS)
    extra = EntryExtra(uname="u") if rng.random() < 0.2 else None
    size = rng.randrange(3) if kind is T.FILE else 0
    return Entry(p, kind, size, 0o644, rng.randrange(2), 0, 0, link, offset, extra)


def test_random_stacks_agree_with_the_merge() -> None:
    rng = random.Random(2026)
    for _ in range(400):
        n_layers = rng.randrange(1, 5)
        offset = iter(range(512, 1 << 30, 512))
        stack = [
            [_random_entry(rng, next(offset)) for _ in range(rng.randrange(0, 7))] for _ in range(n_layers)
        ]
        layers = _stack(stack)
        _check_stack(layers, _probes(layers) | set(_PATHS))


def test_find_at_the_table_ends_and_between_prefixes() -> None:
    names = ["ab", "a", "a/b", "ab/c", "a", "b/ab"]
    es = [Entry(p, T.FILE, 1, 0o644, 0, 0, 0, None, 512 * (i + 1), None) for i, p in enumerate(names)]
    lp = LayerPaths(encode_layer(StoredLayer(es, len(es), [], 0, [], (0, 0))))
    assert lp.find("a") == [1, 4]
    assert lp.find("ab") == [0]
    assert lp.find("b/ab") == [5]
    assert lp.find("b") == []
    assert lp.last_under("a") == (2, "a/b")
    assert lp.last_under("ab") == (3, "ab/c")
    assert lp.last_under("b") == (5, "b/ab")
    assert lp.last_under("c") is None
    one = LayerPaths(encode_layer(StoredLayer(es[:1], 1, [], 0, [], (0, 0))))
    assert one.find("ab") == [0] and one.find("a") == [] and one.last_under("a") is None


def test_payload_entries_equal_decode_layer() -> None:
    need_shared()
    for path in real_archives()[:6]:
        with open_archive(path) as a:
            for li in load_image(a, a.images[0]):
                payload = encode_layer(StoredLayer(li.entries, li.members, li.metadata, 0, [], (0, 0)))
                ref = decode_layer(payload).entries
                lp = LayerPaths(payload)
                for k, e in enumerate(ref):
                    assert lp.entry(k, e.path) == e
                    assert k in lp.find(e.path)


@pytest.mark.parametrize("archive", real_archives(), ids=lambda p: p.name)
def test_real_archives_cached_and_not(archive: Path) -> None:
    """Every path of every image, merged and per layer: the cached lookup (the cache warm) gives what
    indexing and merging give."""
    need_shared()
    from layerscope.core.cache.store import default_store

    with open_archive(archive) as a:
        for im in a.images:
            layers = load_image(a, im)  # writes the cache (the suite's temporary one)
            store = default_store()
            assert store is not None
            try:
                cached = files._CachedLayers(a, im, store)
            except files._NoShortcut:
                continue  # a layer the cache does not keep (no digest)
            probes = sorted(_probes(layers))[:3000]
            for top in [None, *range(len(layers))]:
                for q in probes:
                    got = _outcome(files._found, a, cached, q, top)
                    assert got == _outcome(files.find_file, a, layers, q, top), (im.name, top, q)


@pytest.mark.parametrize("archive", real_archives()[:4], ids=lambda p: p.name)
def test_cat_command_same_bytes_warm_and_without_cache(
    archive: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    need_shared()
    from layerscope.core import cli

    with open_archive(archive) as a:
        layers = load_image(a, a.images[0])  # the cache warm
        top = merge(layers)
        paths = sorted(p for p, n in top.nodes.items() if n.entry is not None)[
            :: max(1, len(top.nodes) // 25)
        ]
        own = [(li.index, e.path) for li in layers for e in li.entries[:: max(1, len(li.entries) // 5)]]
    runs = [[f"/{p}"] for p in paths] + [[f"/{p}", "--layer", str(i)] for i, p in own] + [["/nothing"]]
    for args in runs:
        results = []
        for extra in ([], ["--no-cache"]):
            code = cli.main(["cat", str(archive), *args, *extra])
            out, err = capfdbinary.readouterr()
            results.append((code, out, err))
        assert results[0] == results[1], args


def test_warm_cat_indexes_nothing(
    monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    need_shared()
    from layerscope.core import cli
    from layerscope.core.layers import index

    archive = real_archives()[0]
    with open_archive(archive) as a:
        layers = load_image(a, a.images[0])
        path = next(
            p for p, n in merge(layers).nodes.items() if n.entry is not None and n.entry.type is T.FILE
        )

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the warm cache should answer")

    monkeypatch.setattr(index, "load_image", refuse)
    assert cli.main(["cat", str(archive), f"/{path}"]) == 0
    assert capfdbinary.readouterr().err == b""
