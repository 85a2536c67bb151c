"""The bundled sample merges to exactly the tree `umoci unpack` gave (resources/sample/sample.tree.tsv)."""

from __future__ import annotations

from layerscope.core.archive.open import open_archive
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from layerscope.core.resources import SAMPLE_IMAGE, resource, resource_path
from tests.core.test_merge_real import merged_rows
from tests.expected import read_tree


def test_sample_merges_to_the_umoci_tree(tmp_path):
    oracle_file = tmp_path / "tree.tsv"
    oracle_file.write_bytes(resource("sample/sample.tree.tsv").read_bytes())
    oracle = read_tree(oracle_file)
    with resource_path(SAMPLE_IMAGE) as p, open_archive(p) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        ours = merged_rows(a, tree, layers)
    assert sorted(ours) == sorted(oracle)
    for path, row in oracle.items():
        kind, mode, ug, size, extra = ours[path][:5]
        assert kind == row.type, path
        if mode is not None:
            assert (mode, ug) == (row.mode, f"{row.uid}:{row.gid}"), path
        if kind == "f":
            assert (size, extra) == (row.size, row.digest_or_target), path
        if kind == "l":
            assert extra == row.digest_or_target, path
