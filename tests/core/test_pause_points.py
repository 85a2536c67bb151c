"""The engine's long loops call ``pause_point`` (core/progress.py): where the window's workers give
way to its GUI thread. Nothing is installed unless a window installs it."""

from __future__ import annotations

from pathlib import Path

import layerscope.core.progress as progress
from layerscope.core.archive.open import open_archive
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from tests.imagebuilder import Dir, File, Image, Layer, Whiteout, build

N = 3 * progress.PAUSE_EVERY


def test_nothing_is_installed_by_default() -> None:
    assert progress._pause is None or progress._pause.__module__ == "layerscope.gui.worker"


def test_a_merge_of_many_entries_pauses_every_few_thousand(tmp_path: Path) -> None:
    files = [Dir("d")] + [File(f"d/f{i}", b"x") for i in range(N)]
    img = Image([Layer(files), Layer([File(f"d/f{i}", b"y") for i in range(N)] + [Whiteout("d/f0")])])
    a = open_archive(build(img, tmp_path / "many.tar", "docker25"))
    layers = load_image(a, a.images[0])
    calls: list[int] = []
    before = progress._pause
    progress.set_pause_point(lambda: calls.append(1))
    try:
        merge(layers, archive=a)
    finally:
        progress.set_pause_point(before)
        a.close()
    assert len(calls) >= 2 * (N // progress.PAUSE_EVERY)  # both layers' entries, a pause per slice
    assert len(calls) < N // 100  # not one per entry
