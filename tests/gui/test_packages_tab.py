"""The Packages tab (issue 17): the packages of images whose databases the real tools wrote (dpkg,
pip, npm; tests/core/package_images.py), as ``layerscope packages --json`` lists them, each with
the layer that installed it in that layer's colour; a package selects one of its files in the tree;
"Changes of layer #N" lists what that layer did; the timeline's per-layer summary; the OS in the
status bar (busybox's banner for the corpus images); a package job whose image was replaced is
dropped. Everything is read off the GUI thread by the controller's package job."""

from __future__ import annotations

import io
import json
import threading
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from layerscope.core.cli import main
from layerscope.gui import packages_model
from layerscope.gui.colors import layer_color
from layerscope.gui.packages_model import PackageInfo, PackageRows, PackageTableModel, layer_rows
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared
from tests.core.test_packages_real import built  # noqa: F401  (the session's package image)
from tests.imagebuilder import Dir, File, Image, Layer, build

TIMEOUT = 60000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    return w


def load(qtbot, w, path):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(path))
    assert w.session is not None, w.error


def load_packages(qtbot, w, path):
    load(qtbot, w, path)
    c = w.controller
    qtbot.waitUntil(lambda: c.packages is not None and c.packages.done, timeout=TIMEOUT)
    assert c.packages is not None and c.packages.failed is None, c.packages.failed


def cli_json(*args: str) -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(args)) == 0
    doc: dict = json.loads(out.getvalue())  # type: ignore[type-arg]
    return doc


def table(w: MainWindow) -> list[tuple[str, ...]]:
    m = w.packages_panel.model
    return [tuple(m.index(r, c).data() for c in range(m.columnCount())) for r in range(m.rowCount())]


def test_the_tab_lists_what_the_cli_lists_with_each_layer_in_its_colour(window, qtbot, built):  # noqa: F811
    load_packages(qtbot, window, built.archive)
    doc = cli_json("packages", str(built.archive), "--json")
    m = window.packages_panel.model
    assert m.columns == ("Ecosystem", "Name", "Version", "Size", "Layer")
    shown = sorted(
        (r.package.ecosystem.value, r.package.name, r.package.version, r.package.layer, r.package.size)
        for r in (m.row(n) for n in range(m.rowCount()))
    )
    want = sorted((p["ecosystem"], p["name"], p["version"], p["layer"], p["size"]) for p in doc["packages"])
    assert shown == want and len(shown) > 100  # the host's dpkg database, pip, npm
    assert {e for e, *_ in shown} == {"deb", "python", "npm"}
    for n in range(m.rowCount()):
        p = m.row(n).package
        cell = m.index(n, 4)
        assert cell.data() == f"#{p.layer}"
        assert cell.data(Qt.ItemDataRole.BackgroundRole) == layer_color(p.layer)
    hello = next(r for r in table(window) if r[1] == "ls-hello")
    assert hello == ("deb", "ls-hello", "2.0", "1.0 kB", "#2")
    status = window.packages_panel.status.text()
    assert status.startswith(f"{len(want):,} packages") and "deb" in status and "npm" in status
    assert not window.packages_panel.notes.isVisible()  # no warnings, nothing unsupported


def test_filter_and_sort(window, qtbot, built):  # noqa: F811
    load_packages(qtbot, window, built.archive)
    panel, m = window.packages_panel, window.packages_panel.model
    panel.filter.setText("ALPHA")  # any case; the venv's and the --root installation
    assert sorted((r[0], r[1], r[2]) for r in table(window)) == [
        ("python", "alpha-pkg", "1.0"),
        ("python", "alpha-pkg", "2.0"),
    ]
    assert "2 of" in panel.status.text()
    panel.filter.setText("npm")  # the ecosystem too
    assert {r[0] for r in table(window)} == {"npm"} and m.rowCount() == 2
    panel.filter.setText("")
    panel.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # by size, largest first
    sizes = [m.row(n).package.size or -1 for n in range(m.rowCount())]
    assert sizes == sorted(sizes, reverse=True)
    panel.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)  # by layer
    layers = [m.row(n).package.layer for n in range(m.rowCount())]
    assert layers == sorted(layers) and layers[-1] == 7


def test_selecting_a_package_selects_one_of_its_files_and_next_file_steps_on(window, qtbot, built):  # noqa: F811
    load_packages(qtbot, window, built.archive)
    panel = window.packages_panel
    window.tabs.setCurrentWidget(panel)
    packages = window.controller.packages.history.packages
    pkg = next(p for p in packages if p.name == "alpha-pkg" and p.version == "2.0")
    assert len(pkg.files) > 2
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        assert panel.select_package(pkg)
    assert window.tree.current_path() == pkg.files[0]
    assert panel.files.rowCount() == len(pkg.files) and str(len(pkg.files)) in panel.files_label.text()
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        panel.next_action.trigger()
    assert window.tree.current_path() == pkg.files[1]
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        panel.previous_action.trigger()
    assert window.tree.current_path() == pkg.files[0]
    # a dpkg package: its files come from its .list, folders left out
    hello = next(p for p in packages if p.name == "ls-hello")
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        assert panel.select_package(hello)
    assert window.tree.current_path() in hello.files
    assert window.tree.current_path().startswith("usr/share/ls-hello/")


def test_layer_mode_lists_what_the_layer_changed_with_both_versions(window, qtbot, built):  # noqa: F811
    load_packages(qtbot, window, built.archive)
    doc = cli_json("packages", str(built.archive), "--json")
    panel = window.packages_panel
    assert not panel.layer_mode.isChecked()
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(2)  # dpkg -i ls-hello 2.0 && dpkg -r ls-gone
    assert panel.layer_mode.text() == "Changes of layer #2"
    panel.layer_mode.setChecked(True)
    assert panel.model.columns[0] == "Change"
    rows = {(r[0], r[1], r[2], r[3]) for r in table(window)}
    assert rows == {("changed", "deb", "ls-hello", "1.0 → 2.0"), ("removed", "deb", "ls-gone", "0.1")}
    want = doc["layers"][2]
    assert [(c["name"], c["from"], c["to"]) for c in want["changed"]] == [("ls-hello", "1.0", "2.0")]
    assert [p["name"] for p in want["removed"]] == ["ls-gone"] and want["added"] == []
    assert panel.status.text() == "Layer #2: ~1 deb, -1 deb"
    # a removed package's file: shown among the layer's own changes, the layer stays the same
    gone = next(n for n in range(panel.model.rowCount()) if panel.model.row(n).change == "removed")
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        panel.table.selectRow(gone)
    assert window.controller.current_layer == 2 and window.tree_model.view.layer_view
    assert window.tree.current_path().startswith("usr/share/ls-gone")
    assert panel.layer_mode.isChecked() and panel.model.rowCount() == 2  # still layer #2's changes
    # another layer: its changes (layer 7 installed two npm packages)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(7)
    assert {(r[0], r[1], r[2]) for r in table(window)} == {
        ("added", "npm", "left-thing"),
        ("added", "npm", "@scope/right"),
    }
    added = {(p["name"], p["version"]) for p in doc["layers"][7]["added"]}
    assert {(r[2], r[3]) for r in table(window)} == added
    panel.layer_mode.setChecked(False)
    assert panel.model.columns[0] == "Ecosystem" and panel.model.rowCount() == len(doc["packages"])


def test_the_timeline_summarises_each_layers_package_changes(window, qtbot, built):  # noqa: F811
    load_packages(qtbot, window, built.archive)
    h = window.controller.packages.history
    tm = window.timeline_model
    col = tm.COLUMNS.index("Packages")
    for row in range(tm.rowCount()):
        layer = tm.step(row).layer
        if layer is None:
            continue
        want = h.layers[layer].summary()
        assert tm.index(row, col).data() == want
        tip = tm.index(row, 2).data(Qt.ItemDataRole.ToolTipRole)
        assert (f"Packages: {want}" in tip) if want else "Packages:" not in (tip or "")
    row2 = tm.row_of_layer(2)
    assert tm.index(row2, col).data() == "~1 deb, -1 deb"
    assert tm.index(tm.row_of_layer(7), col).data() == "+2 npm"


def test_the_status_bar_names_the_os(window, qtbot, built):  # noqa: F811
    load_packages(qtbot, window, built.archive)
    os_ = window.controller.packages.os
    assert os_ is not None and os_.source == "etc/os-release"
    assert os_.describe() in window.status.text()
    doc = cli_json("packages", str(built.archive), "--json")
    assert os_.pretty_name == doc["os"]["pretty_name"]


def test_a_busybox_image_names_busybox_and_has_no_packages(window, qtbot):
    need_shared()
    load_packages(qtbot, window, REAL / "docker20-edge.save.tar")
    c = window.controller
    assert c.packages.os is not None and c.packages.os.id == "busybox"
    assert "BusyBox 1." in window.status.text()
    assert window.packages_panel.model.rowCount() == 0
    assert window.packages_panel.status.text() == "No package database found"
    assert window.timeline_model.index(0, window.timeline_model.COLUMNS.index("Packages")).data() == ""


def test_opening_another_image_during_the_job_drops_its_result(window, qtbot, built, monkeypatch):  # noqa: F811
    need_shared()
    held, release, cancelled = threading.Event(), threading.Event(), []
    real = PackageInfo.completed

    def slow(self, s, progress=None, cancelled_check=None):  # type: ignore[no-untyped-def]
        if s.image.name.endswith("packages:1"):
            held.set()
            release.wait(30)
            cancelled.append(cancelled_check is not None and cancelled_check())
        return real(self, s, progress, cancelled_check)

    monkeypatch.setattr(packages_model.PackageInfo, "completed", slow)
    load(qtbot, window, built.archive)
    c = window.controller
    qtbot.waitUntil(held.is_set, timeout=TIMEOUT)  # the package image's job is reading its databases
    assert c.packages is None or not c.packages.done
    seen = []
    c.packages_ready.connect(lambda: seen.append(c.packages))
    load(qtbot, window, REAL / "docker20-edge.save.tar")
    release.set()
    qtbot.waitUntil(lambda: c.packages is not None and c.packages.done, timeout=TIMEOUT)
    qtbot.wait(200)  # what the replaced job still sends has arrived by now
    assert cancelled == [True]  # the replaced job was cancelled (its scan then raises Cancelled)
    assert all(info.steps.image_id == c.image.config_digest for info in seen)
    assert c.packages.history.packages == () and c.packages.os.id == "busybox"
    assert window.packages_panel.model.rowCount() == 0


def test_a_failed_open_keeps_and_finishes_the_packages_of_the_image_shown(window, qtbot, built, tmp_path):  # noqa: F811
    load(qtbot, window, built.archive)
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.open_path(junk)  # may stop the package job; the image shown stays, so it runs again
    c = window.controller
    qtbot.waitUntil(lambda: c.packages is not None and c.packages.done, timeout=TIMEOUT)
    assert c.packages.history is not None and len(c.packages.history.packages) > 100
    assert window.packages_panel.model.rowCount() == len(c.packages.history.packages)


def test_package_models_pass_the_model_tester(qtmodeltester, built):  # noqa: F811
    from layerscope.core.archive.open import open_archive
    from layerscope.core.session import load as load_image

    with open_archive(built.archive) as a:
        s = load_image(a, a.images[0])
        info = PackageInfo.started(s).completed(s)
    model = PackageTableModel()
    qtmodeltester.check(model)  # empty
    model.set_rows(info.table)
    qtmodeltester.check(model)
    model.sort(3, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    model.set_filter("ls-hello")
    assert model.rowCount() == 1
    qtmodeltester.check(model)
    model.set_filter("")
    model.set_rows(info.per_layer[2])
    assert model.columns[0] == "Change" and model.rowCount() == 2
    qtmodeltester.check(model)
    model.set_rows(layer_rows(info.history.layers[0]))
    qtmodeltester.check(model)
    model.set_rows(PackageRows())
    qtmodeltester.check(model)


def test_hostile_rows_are_only_text(qtmodeltester):
    """Names and versions as the databases spell them: nothing in them is markup or a format."""
    from layerscope.core.packages import Ecosystem, Package
    from layerscope.gui.packages_model import PackageRow

    odd = Package(Ecosystem.NPM, "<b>x</b> %s {0}", "1.0\n2", 3, None, ("a\nb",))
    rows = PackageRows.of([PackageRow(odd)], changes=False)
    model = PackageTableModel()
    model.set_rows(rows)
    qtmodeltester.check(model)
    assert model.index(0, 1).data() == "<b>x</b> %s {0}"
    assert model.index(0, 3).data() == ""  # no size known


def test_warnings_and_unsupported_databases_are_one_line_above_the_table(window, qtbot, tmp_path):
    status = (
        b"Package: good\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n"
        b"Installed-Size: 10\n\n"
    )
    image = Image(
        [
            Layer([Dir("var"), Dir("var/lib"), Dir("var/lib/dpkg"), File("var/lib/dpkg/status", status)]),
            Layer([Dir("var/lib/rpm"), File("var/lib/rpm/Packages", b"\x00\x06\x15\x61" * 100)]),
            Layer(
                [
                    Dir("node_modules"),
                    Dir("node_modules/x"),
                    File("node_modules/x/package.json", b"{not json"),
                ]
            ),
        ],
        tags=["test/hostile:1"],
    )
    load_packages(qtbot, window, build(image, tmp_path / "hostile.tar", "docker25"))
    h = window.controller.packages.history
    assert h.unsupported and h.warnings
    notes = window.packages_panel.notes
    assert notes.isVisibleTo(window.packages_panel) and "\n" not in notes.text()
    assert notes.text().startswith("⚠ not supported: /var/lib/rpm/Packages")
    assert "1 warning: " in notes.text() and "package.json" in notes.text()
    assert table(window) == [("deb", "good", "1.0", "10.2 kB", "#0")]
    assert window.timeline_model.index(0, window.timeline_model.COLUMNS.index("Packages")).data() == "+1 deb"
