"""The wheel carries layerscope/core, layerscope/gui and the resources; resources are found through
importlib.resources, not through the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from layerscope.core.resources import SAMPLE_IMAGE, resource, resource_path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_packages_and_resources(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("layerscope-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "layerscope/core/archive/open.py" in names
    assert "layerscope/gui/app.py" in names
    assert f"layerscope/resources/{SAMPLE_IMAGE}" in names
    assert not any(n.startswith(("tests/", "core/", "gui/")) for n in names)
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert (
        entry
        and "layerscope = layerscope.gui.launcher:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()
    )


def test_pyproject_names_every_package_and_resource_folder():
    """setuptools only ships (and only stops warning about) the packages pyproject.toml names."""
    import tomllib

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    wanted = {"layerscope.resources"}
    for top in ("core", "gui"):
        for init in (ROOT / top).glob("**/__init__.py"):
            wanted.add(".".join(("layerscope", *init.parent.relative_to(ROOT).parts)))
    for folder in (ROOT / "resources").glob("**/"):
        rel = folder.relative_to(ROOT / "resources").parts
        if rel and all(part.isidentifier() and part != "__pycache__" for part in rel):
            wanted.add(".".join(("layerscope", "resources", *rel)))
    assert declared == wanted


def test_sample_image_resource_opens():
    from layerscope.core.archive.open import open_archive
    from layerscope.core.layers.index import load_image

    assert resource(SAMPLE_IMAGE).is_file()
    with resource_path(SAMPLE_IMAGE) as p, open_archive(p) as a:
        im = a.images[0]
        idx = load_image(a, im)
        assert len(idx) >= 3
        kinds = {e.type for li in idx for e in li.entries}
        assert {"whiteout", "opaque"} <= kinds
