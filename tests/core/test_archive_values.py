"""The archive's values are frozen; digests, compressions, history pairing and the layer cache as tables."""

from __future__ import annotations

import dataclasses
import gzip

import pytest

from layerscope.core.archive.compression import sniff
from layerscope.core.archive.formats import ArchiveFormat
from layerscope.core.archive.history import align_history
from layerscope.core.archive.open import open_archive
from layerscope.core.digest import blob_path, is_content_digest, is_digest, split_digest
from layerscope.core.kinds import Compression
from layerscope.core.layers.index import LayerCache, load_image
from layerscope.core.resources import SAMPLE_IMAGE, resource_path

HEX = "ab" * 32


@pytest.mark.parametrize(
    ("text", "digest", "content", "parts"),
    [
        (f"sha256:{HEX}", True, True, ("sha256", HEX)),
        (f"sha512+b64:{HEX}", True, True, ("sha512+b64", HEX)),
        ("localhost:5000", True, False, ("localhost", "5000")),  # the grammar, but no content hash
        ("sha256:" + "ab" * 15, True, False, ("sha256", "ab" * 15)),  # too short to name content
        (f"SHA256:{HEX}", False, False, None),
        (f"sha256:{HEX}/x", False, False, None),
        ("", False, False, None),
    ],
)
def test_digest_grammar(text, digest, content, parts):
    assert is_digest(text) is digest
    assert is_content_digest(text) is content
    assert split_digest(text) == parts
    assert blob_path(text) == (f"blobs/{parts[0]}/{parts[1]}" if parts else None)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"", Compression.EMPTY),
        (gzip.compress(b"x"), Compression.GZIP),
        (b"\x28\xb5\x2f\xfd" + bytes(8), Compression.ZSTD),
        (b"BZh91AY", Compression.BZIP2),
        (b"\xfd7zXZ\x00\x00", Compression.XZ),
        (bytes(512), Compression.NONE),  # an empty tar: end-of-archive blocks only
        (bytes(257) + b"ustar\x0000" + bytes(245), Compression.NONE),
        (b"PK\x03\x04" + bytes(508), Compression.UNKNOWN),
    ],
)
def test_sniff_names_the_compression(head, kind):
    assert sniff(head) is kind


def test_format_words_are_the_cli_words():
    assert [(f.value, f.description) for f in ArchiveFormat] == [
        ("docker-archive", "docker save (legacy layout)"),
        ("docker-oci", "docker save (Docker 25+: OCI layout + manifest.json)"),
        ("oci-archive", "OCI image layout archive"),
        ("oci-layout", "OCI image layout folder"),
        ("docker-dir", "unpacked docker save folder"),
        ("registry", "registry image (distribution API)"),
    ]


def _steps(*kinds: str) -> dict[str, object]:
    return {"history": [{"created_by": f"step {i}", "empty_layer": k == "e"} for i, k in enumerate(kinds)]}


@pytest.mark.parametrize(
    ("config", "layers", "paired", "warned"),
    [
        (_steps("l", "e", "l"), 2, [0, None, 1], False),
        (_steps("e", "l"), 1, [None, 0], False),
        (_steps("l"), 3, [0, 1, 2], True),  # history runs out: anonymous steps for layers 1 and 2
        (_steps("l", "l", "l"), 1, [0, None, None], True),
        ({}, 2, [0, 1], False),  # no history at all: anonymous steps, no warning
    ],
)
def test_history_pairs_steps_with_layers(config, layers, paired, warned):
    warnings: list[str] = []
    steps, per_layer = align_history(config, layers, warnings)
    assert [s.layer for s in steps] == paired
    assert [s.layer for s in per_layer] == list(range(layers))
    assert bool(warnings) is warned


def test_values_are_frozen_and_the_cache_is_the_callers():
    with resource_path(SAMPLE_IMAGE) as p, open_archive(p) as a:
        im = a.images[0]
        for value, name in ((a, "images"), (im, "tags"), (im.layers[0], "digest"), (im.history[0], "layer")):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(value, name, None)
        assert isinstance(im.tags, tuple) and isinstance(im.layers, tuple) and isinstance(a.warnings, tuple)
        assert not hasattr(a, "indexes")
        cache = LayerCache()
        first = load_image(a, im, cache=cache)
        again = load_image(a, im, cache=cache)
        assert [li.entries for li in again] == [li.entries for li in first]
        assert all(x.entries is y.entries for x, y in zip(first, again, strict=True))  # not read again
        fresh = load_image(a, im)
        assert all(x.entries is not y.entries for x, y in zip(first, fresh, strict=True))
