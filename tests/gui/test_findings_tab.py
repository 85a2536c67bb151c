"""The Findings tab (issue 19's GUI): the audit runs off the GUI thread once the image is shown, its
table has severity marks and the layers that store and hid each finding, selecting a finding selects
its file in the layer that stores it (Back returns), the status bar counts by severity, a new image
drops a superseded audit's result, the all-files toggle and the allow-list next to the image work,
and no role of the model ever holds a secret in full. Images from tests/imagebuilder.py, with the
planted findings of tests/core/test_audit.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QWidget

import layerscope.gui.auditor as auditor_module
from layerscope.core.audit import Rule
from layerscope.core.session import LoadedImage
from layerscope.gui.auditor import AuditState
from layerscope.gui.findings_model import COLUMNS, FINDING_ROLE, HIDDEN, PATH
from layerscope.gui.panels.findings import FindingsPanel, counts_text
from layerscope.gui.window import MainWindow
from tests.core.test_audit import SECRETS, STACK
from tests.imagebuilder import Dir, File, Image, Layer, build

TIMEOUT = 30000
CLEAN = Image(
    layers=[Layer([Dir("etc"), File("etc/hello", b"hello\n")], created_by="/bin/sh -c #(nop) ADD x /")],
    config_extra={"User": "1000"},
)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("findings")
    return {
        "stack": build(STACK, root / "stack" / "stack.tar", "docker25", compression="gzip"),
        "clean": build(CLEAN, root / "clean" / "clean.tar", "docker25"),
    }


def _open(qtbot: Any, w: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(path)
    assert w.session is not None, w.error


def _audited(qtbot: Any, w: MainWindow) -> None:
    a = w.controller.auditor
    qtbot.waitUntil(lambda: a.state is AuditState.DONE and a.report is not None, timeout=TIMEOUT)


@pytest.fixture
def window(qtbot: Any, images: dict[str, Path]) -> MainWindow:
    w = MainWindow()
    w.quiet_export = True
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    _open(qtbot, w, images["stack"])
    _audited(qtbot, w)
    return w


def _panel(w: MainWindow) -> FindingsPanel:
    return w.explorer.findings_panel


def _row_of(panel: FindingsPanel, rule: Rule, path: str | None = None) -> int:
    for row in range(panel.proxy.rowCount()):
        f = panel.proxy.index(row, 0).data(FINDING_ROLE)
        if f.rule is rule and (path is None or f.path == path):
            return row
    raise AssertionError(f"no {rule} finding shown")


def test_a_deleted_secret_shows_who_deleted_it_and_selects_it_in_the_storing_layer(window, qtbot):
    w, panel = window, _panel(window)
    top = len(w.session.layers) - 1
    assert (w.current_layer, w.controller.own_changes) == (top, False)
    row = _row_of(panel, Rule.PRIVATE_KEY, "/root/.ssh/id_rsa")
    assert panel.proxy.index(row, 0).data() == "▲ high"
    assert panel.proxy.index(row, 3).data() == "#0"
    assert panel.proxy.index(row, HIDDEN).data() == "layer 0, deleted by layer 1: still shipped"
    w.explorer.show_findings()
    assert w.tabs.currentWidget() is panel
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        panel.select_row(row)  # as the keyboard does
    assert (w.current_layer, w.controller.own_changes) == (0, True)
    assert w.tree.current_path() == "root/.ssh/id_rsa"
    assert w.tabs.currentWidget() is panel  # the table stays, for the next finding
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.explorer.go_back()
    assert (w.current_layer, w.controller.own_changes) == (top, False)

    # a click does the same, once
    docker = _row_of(panel, Rule.DOCKER_AUTHS)
    assert "deleted by layer 2" in panel.proxy.index(docker, HIDDEN).data()
    rect = panel.table.visualRect(panel.proxy.index(docker, PATH))
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        QTest.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert (w.current_layer, w.controller.own_changes) == (1, True)
    assert w.tree.current_path() == "home/dev/.docker/config.json"
    assert w.explorer.history.peek_back() is not None and w.explorer.history.peek_back().layer == top


def test_counts_by_severity_in_the_status_bar_open_the_tab(window, qtbot):
    w, report = window, window.controller.auditor.report
    button = w.status_panel.findings_button
    assert button.isVisible()
    assert button.text() == f"⚑ {counts_text(report)}"
    assert f"{report.counts[Rule.PRIVATE_KEY.severity]} high" in button.text()
    assert "medium" in button.text()
    assert w.explorer.tabs.tabText(w.explorer.tabs.indexOf(_panel(w))) == f"Findings ({len(report.findings)})"
    w.explorer.tabs.setCurrentIndex(0)
    button.click()
    assert w.tabs.currentWidget() is _panel(w)


def test_running_as_root_is_flagged(window):
    panel = _panel(window)
    row = _row_of(panel, Rule.RUNNING_AS_ROOT)
    assert panel.proxy.index(row, 0).data() == "● medium"
    assert panel.proxy.index(row, PATH).data() == "(image config)"
    assert panel.proxy.index(row, 3).data() == "—"


def test_no_role_holds_a_secret_in_full(window, qtmodeltester):
    panel = _panel(window)
    texts: list[str] = [panel.status.text(), window.status_panel.findings_button.toolTip()]
    for model in (panel.model, panel.proxy):
        for row in range(model.rowCount()):
            for col in range(len(COLUMNS)):
                index = model.index(row, col)
                for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                    value = index.data(role)
                    if value is not None:
                        assert isinstance(value, str)
                        texts.append(value)
    panel.table.selectAll()
    panel.copy_selected()
    texts.append(QGuiApplication.clipboard().text())
    assert len(texts) > 40
    everything = "\n".join(texts)
    assert "layer 0, deleted by layer 1: still shipped" in everything
    for secret in SECRETS:
        for line in secret.splitlines():
            assert line not in everything
    for row in range(panel.model.rowCount()):
        f = panel.model.finding(row)
        if f.secret is not None:
            assert len(f.secret.prefix) <= 4
    qtmodeltester.check(panel.model)
    qtmodeltester.check(panel.proxy)


def test_filter_and_sort(window):
    panel = _panel(window)
    total = panel.proxy.rowCount()
    order = [panel.proxy.index(r, 0).data(FINDING_ROLE) for r in range(total)]
    severities = [f.severity.rank for f in order]
    assert severities == sorted(severities, reverse=True)
    for one in ("id_rsa", ".env", ""):  # rows of one severity keep their order through filtering
        panel.filter.setText(one)
    assert [panel.proxy.index(r, 0).data(FINDING_ROLE) for r in range(total)] == order
    same = [f for f in order if f.severity is order[0].severity]
    assert [f.rule.info.title.lower() for f in same] == sorted(f.rule.info.title.lower() for f in same)
    panel.least.setCurrentIndex(2)  # high only
    assert 0 < panel.proxy.rowCount() < total
    assert all(panel.proxy.index(r, 0).data() == "▲ high" for r in range(panel.proxy.rowCount()))
    panel.least.setCurrentIndex(0)
    panel.hidden_only.setChecked(True)
    shown = [panel.proxy.index(r, 0).data(FINDING_ROLE) for r in range(panel.proxy.rowCount())]
    assert shown and all(f.hidden_by is not None for f in shown)
    panel.hidden_only.setChecked(False)
    panel.filter.setText("id_rsa")
    assert {panel.proxy.index(r, PATH).data() for r in range(panel.proxy.rowCount())} == {"/root/.ssh/id_rsa"}
    assert f"{panel.proxy.rowCount()} shown by the filter" in panel.status.text()  # the summary says so
    panel.filter.clear()
    assert "shown by the filter" not in panel.status.text()
    panel.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    layers = [panel.proxy.index(r, 0).data(FINDING_ROLE).layer for r in range(panel.proxy.rowCount())]
    keys = [-1 if x is None else x for x in layers]
    assert keys == sorted(keys)
    assert panel.proxy.rowCount() == total


def test_audit_all_files_runs_again_over_package_trees(window, qtbot):
    panel, a = _panel(window), window.controller.auditor
    code = "/usr/lib/python3/dist-packages/lib/code.py"
    assert not [f for f in a.report.findings if f.path == code]
    panel.deep.setChecked(True)
    assert a.state is AuditState.RUNNING and a.deep
    _audited(qtbot, window)
    assert [f for f in a.report.findings if f.path == code and f.rule is Rule.GITHUB_TOKEN]
    assert _row_of(panel, Rule.GITHUB_TOKEN, code) >= 0


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The audit of the stack (the image of more than one layer) waits for ``release``, and ignores
    Cancel (its result then arrives after the job was superseded)."""
    real = auditor_module.audit
    seen: dict[str, Any] = {
        "entered": threading.Event(),
        "release": threading.Event(),
        "returned": threading.Event(),
        "cancelled": None,
    }

    def audit(loaded: LoadedImage, *args: Any, **kwargs: Any) -> Any:
        if len(loaded.layers) > 1:
            seen["entered"].set()
            seen["release"].wait(20)
            report = real(loaded, *args, **{**kwargs, "cancelled": None})
            seen["cancelled"] = kwargs["cancelled"]()
            seen["returned"].set()
            return report
        return real(loaded, *args, **kwargs)

    monkeypatch.setattr(auditor_module, "audit", audit)
    yield seen
    seen["release"].set()  # a failed test does not leave a worker waiting


def test_a_new_image_opened_mid_audit_drops_the_old_result(qtbot, images, slow):
    seen = slow
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, images["stack"])
    a = w.controller.auditor
    qtbot.waitUntil(seen["entered"].is_set, timeout=TIMEOUT)
    assert a.state is AuditState.RUNNING
    assert w.status_panel.findings_button.text() == "⚑ auditing…"
    assert not _panel(w).progress.isHidden() and not _panel(w).cancel_button.isHidden()
    with qtbot.waitSignal(w.controller.loaded, timeout=TIMEOUT):
        with qtbot.waitSignal(w.controller.loading, timeout=TIMEOUT):
            w.open_path(images["clean"])  # the stack's audit is still running
        assert a.state is AuditState.NONE  # stopped: the stack is no longer the image to audit
        seen["release"].set()  # it ends now, with a result no one wants
        assert seen["returned"].wait(20)
    _audited(qtbot, w)
    clean = a.report
    assert not [f for f in clean.findings if f.rule is Rule.RUNNING_AS_ROOT]
    qtbot.wait(200)  # any late signal arrives, and is dropped
    assert seen["cancelled"] is True  # the open cancelled it
    assert a.report is clean and a.state is AuditState.DONE
    assert not [f for f in _panel(w).model.rows if f.finding.rule is Rule.PRIVATE_KEY]
    assert w.status_panel.findings_button.text() == "⚑ no findings"


def test_cancel_then_run_again(qtbot, images, slow):
    seen = slow
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, images["stack"])
    panel, a = _panel(w), w.controller.auditor
    assert a.state is AuditState.RUNNING
    qtbot.waitUntil(seen["entered"].is_set, timeout=TIMEOUT)
    panel.cancel_button.click()
    seen["release"].set()
    qtbot.waitUntil(lambda: a.state is AuditState.CANCELLED, timeout=TIMEOUT)
    assert not panel.rerun_button.isHidden() and panel.progress.isHidden()
    assert w.status_panel.findings_button.text() == "⚑ audit cancelled"
    panel.rerun_button.click()
    _audited(qtbot, w)
    assert [f for f in a.report.findings if f.rule is Rule.PRIVATE_KEY]


def test_the_allow_list_next_to_the_image_is_honoured(qtbot, images, tmp_path):
    image = tmp_path / "allowed.tar"
    image.write_bytes(images["stack"].read_bytes())
    (tmp_path / ".layerscope-audit").write_text("rules:\n  - running-as-root\npaths:\n  - /opt/**\n")
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, image)
    _audited(qtbot, w)
    r = w.controller.auditor.report
    assert not [f for f in r.findings if f.rule is Rule.RUNNING_AS_ROOT]
    assert not [f for f in r.findings if (f.path or "").startswith("/opt/")]
    assert r.allowed >= 5
    assert "allow-list" in _panel(w).status.text() and f"{r.allowed} allowed" in _panel(w).status.text()


def test_a_bad_allow_list_is_one_line_and_the_audit_runs_without_it(qtbot, images, tmp_path):
    image = tmp_path / "bad.tar"
    image.write_bytes(images["clean"].read_bytes())
    (tmp_path / ".layerscope-audit").write_text("rules:\n  - no-such-rule\n")
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, image)
    _audited(qtbot, w)
    assert "allow-list not used" in _panel(w).status.text()


def test_the_history_finding_selects_its_layer(window, qtbot):
    panel, w = _panel(window), window
    row = _row_of(panel, Rule.CURL_USER)
    f = panel.proxy.index(row, 0).data(FINDING_ROLE)
    assert f.path is None and f.layer == 2
    assert panel.proxy.index(row, PATH).data() == "(build step of layer #2)"
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        w.select_layer(0)
    with qtbot.waitSignal(w.view_ready, timeout=TIMEOUT):
        panel._chosen(panel.proxy.index(row, 0))
    assert w.current_layer == 2
    assert panel.finding_at(QModelIndex()) is None


def test_closing_the_window_mid_audit_stops_it(qtbot, images, slow):
    seen = slow
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    _open(qtbot, w, images["stack"])
    a = w.controller.auditor
    qtbot.waitUntil(seen["entered"].is_set, timeout=TIMEOUT)
    w.close()
    assert a.state is AuditState.NONE and a.report is None
    seen["release"].set()
    assert seen["returned"].wait(20)
    time.sleep(0.05)
    qtbot.wait(100)
    assert a.report is None


def _all_texts(model: Any) -> list[str]:
    """Every display and tooltip text of a (tree or table) model, all rows down."""
    out: list[str] = []
    todo = [QModelIndex()]
    while todo:
        parent = todo.pop()
        for row in range(model.rowCount(parent)):
            for col in range(model.columnCount(parent)):
                index = model.index(row, col, parent)
                for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                    value = index.data(role)
                    if isinstance(value, str):
                        out.append(value)
            todo.append(model.index(row, 0, parent))
    return out


def test_the_timeline_and_history_show_build_steps_with_secrets_redacted(window, qtbot):
    """The build steps (timeline rows and tooltips, the layer legend, the History tab) show what the
    audit found in them redacted."""
    qtbot.waitUntil(lambda: window.history_panel.isEnabled(), timeout=TIMEOUT)
    texts = _all_texts(window.timeline_model)
    for view in window.history_panel.findChildren(QAbstractItemView):
        if view.model() is not None:
            texts += _all_texts(view.model())
    texts += [w.toolTip() for w in window.findChildren(QWidget) if w.toolTip()]
    everything = "\n".join(texts)
    assert "curl -u deploy:[secret" in everything
    for secret in SECRETS:
        for line in secret.splitlines():
            assert line not in everything


def test_the_sorted_table_paints_a_cell_from_one_call(window):
    # the proxy hands the whole span to the model (gui/cells.py), with what data() answers per role
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    panel = _panel(window)
    proxy = panel.proxy
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    calls: list[int] = []
    real = panel.model.multiData
    panel.model.multiData = lambda *a: (calls.append(1), real(*a))[1]  # type: ignore[method-assign]
    d = QStyledItemDelegate()
    assert proxy.rowCount() > 3
    for row in range(proxy.rowCount()):
        for col in range(len(COLUMNS)):
            idx = proxy.index(row, col)
            o = QStyleOptionViewItem()
            d.initStyleOption(o, idx)
            assert o.text == (idx.data(Qt.ItemDataRole.DisplayRole) or "")
            fg = idx.data(Qt.ItemDataRole.ForegroundRole)
            if fg is not None:
                want = fg.color() if hasattr(fg, "color") else fg
                assert o.palette.color(o.palette.ColorRole.Text) == want
    assert len(calls) == proxy.rowCount() * len(COLUMNS)  # one call per cell, through the proxy


def test_the_config_tab_shows_secret_values_redacted(window):
    # "never shown in full ... everywhere": the image's config names them in Env and in its history
    panel = window.explorer.documents.panels["config"]
    texts = [panel.raw.toPlainText(), panel.note.text()]
    m = panel.model

    def walk(parent: QModelIndex) -> None:
        for r in range(m.rowCount(parent)):
            for c in range(m.columnCount(parent)):
                v = m.index(r, c, parent).data(Qt.ItemDataRole.DisplayRole)
                if isinstance(v, str):
                    texts.append(v)
            walk(m.index(r, 0, parent))

    walk(QModelIndex())
    everything = "\n".join(texts)
    assert "API_TOKEN=[secret" in everything and "DB_PASSWORD=[secret" in everything
    assert "PATH=/usr/bin" in everything and "GPG_KEY=ABCDEF" in everything  # not secrets: as they are
    for secret in SECRETS:
        for line in secret.splitlines():
            assert line not in everything
    assert "shown redacted" in panel.note.text()
