"""The window stays responsive and frees what it no longer shows (issue 13, items 2 and 7).

Nothing proportional to the image runs on the GUI thread (the Waste table is prepared by a job
right after the load; the model indexes prepared rows), every stage of a load can be cancelled (the
figures too), and a replaced or closed image is freed: its LoadedImage dies, its archive's file is
closed.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

import layerscope.core.session as session_module
from layerscope.core.archive.open import open_archive
from layerscope.core.dive_figures import dive_figures
from layerscope.core.errors import Cancelled
from layerscope.core.session import dismantle, load
from layerscope.core.waste import layerscope_figures
from layerscope.gui.panels.waste import WasteModel, WasteRows
from layerscope.gui.window import MainWindow
from tests.conftest import ROOT
from tests.imagebuilder import Dir, File, Image, Layer, Whiteout, build

TIMEOUT = 60000
N = 12000  # files per layer: tens of thousands of entries, half of them wasted


@pytest.fixture(autouse=True)
def _cold_cache(tmp_path, monkeypatch):
    """A persistent cache of this test's own: the figures are computed, not read back."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """Three layers of N files each; layer 1 rewrites every file of layer 0 (N wasted copies)."""
    folder = tmp_path_factory.mktemp("big")
    dirs = [Dir(f"d{i}") for i in range(100)]
    files0 = [File(f"d{i % 100}/f{i}", b"x" * (i % 50)) for i in range(N)]
    files1 = [File(f"d{i % 100}/f{i}", b"y" * (i % 40)) for i in range(N)]
    files2 = [File(f"e/g{i}", b"z") for i in range(N)] + [Whiteout("d0")]
    img = Image([Layer(dirs + files0), Layer(files1), Layer([Dir("e"), *files2])], tags=["test/big:1"])
    return build(img, folder / "big.tar", "docker25")


@pytest.fixture
def small(tmp_path) -> Path:
    img = Image([Layer([Dir("etc"), File("etc/a", b"a")]), Layer([File("etc/a", b"b")])], tags=["t/s:1"])
    return build(img, tmp_path / "small.tar", "docker-legacy")


def load_in(qtbot, w, path):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(path))
    assert w.session is not None, w.error


class Gaps:
    """The longest gap between two ticks of a 5 ms timer: how long the event loop was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now


_FRESH_APP = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from layerscope.gui.window import MainWindow
from tests.gui.test_responsive import Gaps
w = MainWindow(); w.quiet_export = True; w.show()
loop = QEventLoop(); w.controller.prepared.connect(loop.quit); QTimer.singleShot(60000, loop.quit)
gaps = Gaps(); w.open_path(Path(sys.argv[1])); loop.exec()  # loaded, then the Waste table and views
end = time.perf_counter() + 0.1
while time.perf_counter() < end:
    app.processEvents()
gaps.timer.stop()
print(gaps.worst, len(w.session.figures.wasted), w.waste_panel.model.rowCount())
"""


def test_loading_a_big_image_never_blocks_the_event_loop_for_long(big, tmp_path):
    # In a process of its own, as a user's app: in the test process, earlier tests' objects and
    # background jobs would be measured too.
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-c", _FRESH_APP, str(big)], capture_output=True, text=True, env=env, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    worst, wasted, rows = r.stdout.split()
    assert int(wasted) > N // 2
    assert int(rows) == int(wasted)
    # the real target (50 ms on a 2 GB image) is for benchmarks/gui_bench.py; this is generous for
    # a loaded CI machine but far below what filling the Waste table on the GUI thread took
    assert float(worst) < 0.6, f"event loop blocked for {float(worst) * 1000:.0f} ms"


def test_waste_table_touches_only_the_rows_it_shows(window, qtbot, big, monkeypatch):
    calls = []
    real = WasteModel.data

    def counting(self, index, role=0):
        calls.append(index.row())
        return real(self, index, role)

    monkeypatch.setattr(WasteModel, "data", counting)
    load_in(qtbot, window, big)
    qtbot.waitUntil(lambda: window.controller.waste_rows is not None, timeout=TIMEOUT)  # made after the load
    window.tabs.setCurrentWidget(window.waste_panel)
    qtbot.wait(50)
    model = window.waste_panel.model
    assert model.rowCount() > N // 2
    assert len(set(calls)) < 500, "the table asked for rows it does not show"
    calls.clear()
    t = time.perf_counter()
    window.waste_panel.table.sortByColumn(
        0, Qt.SortOrder.AscendingOrder
    )  # by path, ascending: a prepared order
    took = time.perf_counter() - t
    assert len(set(calls)) < 500 and took < 0.2
    assert model.index(0, 0).data() < model.index(1, 0).data()


def test_waste_model_passes_the_model_tester(qtmodeltester, small):
    a = open_archive(small)
    s = load(a, a.images[0])
    model = WasteModel()
    model.set_rows(WasteRows.prepare(s))
    assert model.rowCount() == 1 and model.index(0, 4).data() == "shadowed"
    qtmodeltester.check(model)
    model.sort(0, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    a.close()


def test_cancel_works_while_analysing(window, qtbot, big, monkeypatch):
    """Cancel in the "analysing" stage stops inside the figures (core checks the cancel there)."""
    c = window.controller
    reached = []
    real = session_module.dive_figures

    def analysing_slowly(layers, cancelled=None):
        reached.append(True)
        while not (cancelled is not None and cancelled()):
            time.sleep(0.005)  # the user presses Cancel meanwhile
        return real(layers, cancelled)  # must raise Cancelled on its own

    monkeypatch.setattr(session_module, "dive_figures", analysing_slowly)
    stages = []
    c.progressed.connect(lambda stage, _d, _t: stages.append(stage))
    with qtbot.waitSignal(c.cancelled, timeout=TIMEOUT):
        window.open_path(big)
        qtbot.waitUntil(lambda: bool(reached) and "analysing" in stages, timeout=TIMEOUT)
        window.cancel_button.click()
    assert window.session is None and not window.progress.isVisible()
    # the half-loaded image is freed at once (its traceback's frames cleared), its file closed
    qtbot.waitUntil(lambda: _fds_on(big) == 0, timeout=5000)


def test_figures_honour_the_cancel_check(big):
    a = open_archive(big)
    s = load(a, a.images[0])
    with pytest.raises(Cancelled):
        dive_figures(s.layers, cancelled=lambda: True)
    with pytest.raises(Cancelled):
        layerscope_figures(s.layers, s.tree, cancelled=lambda: True)
    calls = []
    dive_figures(s.layers, cancelled=lambda: bool(calls.append(1)))
    assert 3 <= len(calls) < 200  # coarse: a few checks per layer, not one per entry
    a.close()


def test_a_loaded_image_is_freed_by_reference_counting_alone(small):
    """Loads freeze their objects out of the cyclic GC: the engine must make no cycles."""
    gc.disable()
    try:
        a = open_archive(small)
        s = load(a, a.images[0])
        s.view(0, own_changes=False)
        s.view(1, own_changes=True)
        ref = weakref.ref(s)
        a.close()
        del s, a
        assert ref() is None
    finally:
        gc.enable()


def _fds_on(path: Path) -> int:
    target = str(path.resolve())
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                n += 1
        except OSError:
            pass
    return n


def test_a_replaced_image_is_freed_and_its_archive_closed(window, qtbot, big, small):
    load_in(qtbot, window, big)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(0)  # a merge made on demand, kept by the session
    window.expand_path("d1")
    old = weakref.ref(window.session)
    load_in(qtbot, window, small)
    # freed piece by piece off the GUI thread: the LoadedImage first, its archive's map soon after
    qtbot.waitUntil(lambda: old() is None and _fds_on(big) == 0, timeout=TIMEOUT)
    # reopening the same file replaces it too
    again = weakref.ref(window.session)
    load_in(qtbot, window, small)
    qtbot.waitUntil(lambda: again() is None and _fds_on(small) <= 1, timeout=TIMEOUT)


def test_closing_the_window_frees_the_image(qtbot, small):
    """As the app does: a closed window is deleted; its image, merges and file go with it."""
    w = MainWindow()
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    w.show()
    load_in(qtbot, w, small)
    ref = weakref.ref(w.session)
    view = weakref.ref(w.tree_model.view)
    w.close()
    del w
    qtbot.waitUntil(lambda: ref() is None and view() is None and _fds_on(small) == 0, timeout=TIMEOUT)


def test_dismantle_frees_only_what_nothing_else_holds(small):
    a = open_archive(small)
    s = load(a, a.images[0])
    layers = s.layers  # still held here: must stay intact
    entries = [len(li.entries) for li in layers]
    tree_nodes = len(s.tree.nodes)
    tree = s.tree
    holder = [s]
    ref = weakref.ref(s)
    del s
    dismantle(holder)
    assert ref() is None and holder == []
    assert [len(li.entries) for li in layers] == entries and len(tree.nodes) == tree_nodes
    a.close()
