"""The History tab (issue 17): the build steps of the corpus's real images read as their Dockerfile,
as ``layerscope history --json`` gives them, each layer step with its ChainID, diff_id and (legacy
``docker save``) v1 id; steps that made no layer dimmed; a click selects the step's layer; "Copy as
Dockerfile" copies what ``layerscope history --dockerfile`` prints."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from layerscope.core.archive.open import open_archive
from layerscope.core.buildsteps.steps import build_history
from layerscope.core.cli import main
from layerscope.gui.models import LAYER_ROLE
from layerscope.gui.panels.history import HistoryModel, short_id
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared

TIMEOUT = 60000


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.quiet_export = True
    w.ask_image = lambda _archive: 0  # a multi-image archive: its first image, as the CLI reads it
    qtbot.addWidget(w)
    w.show()
    return w


def load_steps(qtbot, w, path):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(path))
    assert w.session is not None, w.error
    qtbot.waitUntil(lambda: w.history_panel.model.rowCount() > 0, timeout=TIMEOUT)


def cli(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


@pytest.mark.parametrize("name", ["docker20-edge.save.tar", "docker26-multi.save.tar", "umoci-edge.oci.tar"])
def test_the_steps_are_what_the_cli_says(window, qtbot, name):
    need_shared()
    load_steps(qtbot, window, REAL / name)
    doc = json.loads(cli("history", str(REAL / name), "--json"))
    m = window.history_panel.model
    assert m.rowCount() == len(doc["steps"])
    for row, want in enumerate(doc["steps"]):
        s = m.step(row)
        got = {
            "instruction": s.instruction.value if s.instruction is not None else None,
            "command": s.command,
            "empty": s.empty,
            "layer": s.layer,
            "diff_id": s.diff_id,
            "chain_id": s.chain_id,
            "v1_id": s.v1_id,
        }
        assert got == {k: want[k] for k in got}, row
        line = m.index(row, HistoryModel.STEP).data()
        assert line == (want["command"] if want["instruction"] else f"# {want['command']}").replace("\n", " ")
        made = want["layer"] is not None and not want["empty"]
        assert m.index(row, 0).data() == (f"#{want['layer']}" if made else "·")
        ids = [m.index(row, c).data() for c in (2, 3, 4)]
        if made:
            assert ids == [short_id(want["chain_id"]), short_id(want["diff_id"]), short_id(want["v1_id"])]
            tip = m.index(row, 1).data(Qt.ItemDataRole.ToolTipRole)
            assert want["chain_id"] in tip and want["diff_id"] in tip
            assert (want["v1_id"] in tip) if want["v1_id"] else "v1 id" not in tip
        else:
            assert ids == ["", "", ""]
            assert m.index(row, 1).data(Qt.ItemDataRole.ForegroundRole).color().alpha() < 255  # dimmed
    assert doc["image_id"] in window.history_panel.heading.text()


def test_v1_ids_of_a_legacy_docker_save(window, qtbot):
    need_shared()
    load_steps(qtbot, window, REAL / "docker20-edge.save.tar")
    m = window.history_panel.model
    steps = [m.step(r) for r in range(m.rowCount())]
    layer_steps = [s for s in steps if s.layer is not None and not s.empty]
    assert layer_steps and all(s.v1_id for s in layer_steps)
    # each v1 id's parent is the id of the layer below (the first has none)
    assert layer_steps[0].v1_parent is None
    assert [s.v1_parent for s in layer_steps[1:]] == [s.v1_id for s in layer_steps[:-1]]


def test_clicking_a_step_selects_its_layer(window, qtbot):
    need_shared()
    load_steps(qtbot, window, REAL / "docker26-multi.save.tar")
    panel = window.history_panel
    window.tabs.setCurrentWidget(panel)
    m = panel.model
    row = m.row_of_layer(2)
    assert row >= 0
    rect = panel.table.visualRect(m.index(row, HistoryModel.STEP))
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.controller.current_layer == 2 and window.tree_model.view.top == 2
    assert window.timeline.currentIndex().row() == window.timeline_model.row_of_layer(2)
    # a step that made no layer leaves the layer as it is
    empty = next(r for r in range(m.rowCount()) if m.index(r, 0).data(LAYER_ROLE) is None)
    panel.table.selectRow(empty)
    qtbot.wait(100)
    assert window.controller.current_layer == 2
    # the timeline's choice is followed here, quietly
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(4)
    assert panel.table.currentIndex().row() == m.row_of_layer(4)


def test_copy_as_dockerfile_copies_what_the_cli_prints(window, qtbot):
    need_shared()
    path = REAL / "docker20-edge.save.tar"
    load_steps(qtbot, window, path)
    QApplication.clipboard().clear()
    window.history_panel.copy_button.click()
    assert QApplication.clipboard().text() == cli("history", str(path), "--dockerfile")


def test_history_model_passes_the_model_tester(qtmodeltester):
    need_shared()
    with open_archive(REAL / "buildah-run.docker.tar") as a:
        h = build_history(a, a.images[0])
    m = HistoryModel()
    qtmodeltester.check(m)
    m.set_history(h)
    assert m.rowCount() == len(h.steps)
    qtmodeltester.check(m)
    m.set_history(None)
    qtmodeltester.check(m)
