"""Folder sizes the browser shows equal the bytes `umoci unpack` put under each folder
(shared/corpus/real/trees/*.tsv: an independent oracle), in the merged view of the top layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.paths import ancestors
from layerscope.core.session import load
from tests.conftest import REAL, need_shared


def _oracle_totals(tsv: Path) -> tuple[dict[str, int], set[str]]:
    """Per folder: the bytes of regular files below it, and the folders holding a hardlinked file
    (a hardlink's bytes count once, which umoci's listing cannot say: those folders are skipped)."""
    totals: dict[str, int] = {}
    linked: set[str] = set()
    for line in tsv.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        path, kind, _mode, _ug, nlink, size, *_ = line.split("\t")
        if kind == "d":
            totals.setdefault(path, 0)
        if kind != "f":
            continue
        for folder in ancestors(path):
            totals[folder] = totals.get(folder, 0) + int(size)
            if nlink and int(nlink) > 1:
                linked.add(folder)
    return totals, linked


TREES = sorted((REAL / "trees").glob("*.tsv")) if REAL.is_dir() else []


@pytest.mark.parametrize("tsv", TREES, ids=lambda p: p.name)
def test_folder_sizes_match_the_unpacked_tree(tsv: Path) -> None:
    need_shared()
    name, _, image = tsv.stem.rpartition("@")
    totals, linked = _oracle_totals(tsv)
    with open_archive(REAL / name) as archive:
        session = load(archive, archive.images[int(image)])
        view = session.view(len(session.layers) - 1, own_changes=False)
        checked = 0
        for folder, want in totals.items():
            if folder in linked:
                continue
            assert view.row(folder).size == want, f"/{folder}"
            checked += 1
    assert checked > 0


def test_the_corpus_has_trees() -> None:
    need_shared()
    assert TREES, f"no trees/*.tsv in {REAL}"
