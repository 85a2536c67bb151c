"""The compare view (issue 16): two real images side by side, as ``layerscope diff --json`` sees
them; shared layers joined, the tree of differences (marks, deltas, sorting, "only changed"), the
config rows, a text file's unified diff and a binary's hex view; the jobs are cancelled when the
window closes, superseded results are dropped, a bad image is one line; and the ways in (File >
Compare With…, a Ctrl-drop, the image picker's Compare)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from layerscope.core import cli
from layerscope.core.archive.open import open_archive
from layerscope.core.errors import Cancelled
from layerscope.core.kinds import ChangeKind
from layerscope.gui.compare import flow
from layerscope.gui.compare import window as compare_window
from layerscope.gui.compare.file_diff import first_difference
from layerscope.gui.compare.flow import SideSpec, compare_drop, compare_with
from layerscope.gui.compare.index import DiffIndex
from layerscope.gui.compare.tree_model import CHANGE, DELTA, NAME, DiffTreeModel
from layerscope.gui.compare.window import CompareWindow
from layerscope.gui.panels.open_dialogs import ImagePicker
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared
from tests.imagebuilder import File, Image, Layer, build

TIMEOUT = 30000
MULTI = str(REAL / "docker20-multi.save.tar")  # image 0: corpus/docker20-edge:1, image 1: corpus/bbase:1
EDGE = str(REAL / "docker20-edge.save.tar")
UMOCI_EDGE = str(REAL / "umoci-edge.docker.tar")
UMOCI_INSERT = str(REAL / "umoci-insert.docker.tar")


@pytest.fixture
def windows():
    made: list[CompareWindow] = []
    yield made
    for w in made:
        if shiboken6.isValid(w):
            w.close()


def compare(qtbot, windows, a: SideSpec, b: SideSpec) -> CompareWindow:
    w = CompareWindow(a, b)
    windows.append(w)
    w.show()
    with qtbot.waitSignal(w.ended, timeout=TIMEOUT):
        w.start()
    return w


@pytest.fixture
def base_vs_edge(qtbot, windows):
    """A: the bbase image of the multi-image save; B: the edge image built on it."""
    need_shared()
    w = compare(qtbot, windows, SideSpec(MULTI, 1), SideSpec(EDGE))
    assert w.result is not None, w.error
    return w


def cli_json(capsys, *argv: str) -> dict:
    code = cli.main(["diff", "--json", *argv])
    out, _err = capsys.readouterr()
    assert code in (0, 1)
    return json.loads(out)


def all_rows(model: DiffTreeModel, parent: QModelIndex | None = None) -> dict[str, ChangeKind | None]:
    """Every path of the tree (every folder fetched) with its change."""
    parent = parent or QModelIndex()
    if model.canFetchMore(parent):
        model.fetchMore(parent)
    out: dict[str, ChangeKind | None] = {}
    for r in range(model.rowCount(parent)):
        ix = model.index(r, 0, parent)
        info = model.info(ix)
        assert info is not None
        out[info.path] = info.change
        out.update(all_rows(model, ix))
    return out


def by_change(rows: dict[str, ChangeKind | None], kind: ChangeKind) -> set[str]:
    return {"/" + p for p, c in rows.items() if c is kind}


def top_names(model: DiffTreeModel, parent: QModelIndex | None = None) -> list[str]:
    parent = parent or QModelIndex()
    return [model.index(r, NAME, parent).data() for r in range(model.rowCount(parent))]


# ---- what the view shows ----------------------------------------------------------------------------
def test_the_shared_base_layer_is_joined_and_the_rest_only_in_b(base_vs_edge, qtmodeltester):
    w = base_vs_edge
    pairs = w.layers_model.pairs
    assert pairs[0].joined and pairs[0].base and pairs[0].a is not None and pairs[0].b is not None
    assert pairs[0].a.diff_id == pairs[0].b.diff_id
    assert [p.b.index for p in pairs[1:] if p.b is not None] == [1, 2, 3, 4, 5, 6]
    assert all(p.a is None and not p.joined for p in pairs[1:])
    assert w.layers_model.index(0, 1).data() == "=" and w.layers_model.index(1, 1).data() == ""
    assert "only in B" in w.layers_model.index(1, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert w.layers_box.title() == "Layers: 1 shared, 0 only in A, 6 only in B; common base 1 layer"
    qtmodeltester.check(w.layers_model)
    qtmodeltester.check(w.config_model)


def test_the_tree_holds_what_diff_json_says(base_vs_edge, capsys, qtmodeltester):
    w = base_vs_edge
    doc = cli_json(capsys, MULTI, EDGE, "--image-a", "1")
    assert w.verdict.text() == doc["verdict"] == "19 files differ (12 added, 6 removed, 1 changed), +14 bytes"
    rows = all_rows(w.tree_model)
    assert by_change(rows, ChangeKind.ADDED) == {x["path"] for x in doc["added"]}
    assert by_change(rows, ChangeKind.REMOVED) == {x["path"] for x in doc["removed"]}
    assert (
        by_change(rows, ChangeKind.MODIFIED) == {x["path"] for x in doc["changed"]} == {"/opt/app/config.ini"}
    )
    # the folders between are there, unmarked, with the size change below them
    assert rows["opt"] is None and rows["opt/app"] is None
    ix = w.tree_model.index_of("opt")
    assert ix.siblingAtColumn(DELTA).data() == "+13 bytes" == f"+{doc['folder_deltas']['/opt']} bytes"
    config_ini = w.tree_model.index_of("opt/app/config.ini")
    assert config_ini.siblingAtColumn(CHANGE).data() == "modified"
    assert config_ini.siblingAtColumn(CHANGE).data(Qt.ItemDataRole.DecorationRole) is not None
    qtmodeltester.check(w.tree_model)


def test_sorting_by_delta_puts_the_biggest_growth_first(base_vs_edge):
    w = base_vs_edge
    m = w.tree_model
    assert top_names(m) == ["bin", "etc", "opt", "var"]
    w.tree.sortByColumn(DELTA, Qt.SortOrder.DescendingOrder)
    assert top_names(m) == ["opt", "bin", "etc", "var"]  # +13, +5, 0, -4 bytes
    app = m.index_of("opt/app")
    m.fetchMore(app)
    deltas = [m.info(m.index(r, 0, app)).delta for r in range(m.rowCount(app))]
    assert deltas == sorted(deltas, reverse=True) and deltas[0] == 6
    w.tree.sortByColumn(DELTA, Qt.SortOrder.AscendingOrder)
    assert top_names(m)[0] == "var"
    w.tree.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
    assert top_names(m) == ["bin", "etc", "opt", "var"]


def test_only_changed_off_shows_every_path_of_both(base_vs_edge, qtmodeltester):
    w = base_vs_edge
    m = w.tree_model
    w.only_changed.setChecked(False)
    names = top_names(m)
    assert {"bin", "etc", "opt", "var", "tmp"} <= set(names) and len(names) > 4
    same = [m.info(m.index(r, 0)) for r in range(m.rowCount())]
    assert {i.name for i in same if i.change is ChangeKind.UNMODIFIED} == set(names) - {
        "bin",
        "etc",
        "opt",
        "var",
    }
    bin_ = m.index_of("bin")
    m.fetchMore(bin_)
    assert m.rowCount(bin_) > 100  # busybox's links, unchanged, and the one file added
    assert m.index_of("bin/suid-prog").siblingAtColumn(CHANGE).data() == "added"
    assert m.index_of("opt/app/config.ini").siblingAtColumn(CHANGE).data() == "modified"
    w.only_changed.setChecked(True)
    assert top_names(m) == ["bin", "etc", "opt", "var"]
    w.only_changed.setChecked(False)
    qtmodeltester.check(m)  # last: the tester fetches children inside the row signals it watches


def test_the_config_rows_name_env_workingdir_and_labels(base_vs_edge):
    m = base_vs_edge.config_model
    rows = {m.index(r, 0).data(): (m.index(r, 1).data(), m.index(r, 2).data()) for r in range(m.rowCount())}
    assert rows["Env"] == (
        "(unset)",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nA=1",
    )
    assert rows["WorkingDir"] == ("(unset)", "/opt/app")
    assert rows["Labels"] == ("(unset)", "org.example.corpus=dockerfile-edge")
    assert rows["history B#10"] == ("", 'CMD ["/bin/sh"]')
    assert base_vs_edge.config_box.title() == "Config: 13 differences"


def test_config_ini_shows_a_highlighted_unified_diff(base_vs_edge, qtbot):
    w = base_vs_edge
    with qtbot.waitSignal(w.file_shown, timeout=TIMEOUT):
        assert w.select_path("/opt/app/config.ini")
    p = w.file_panel
    assert p.kind == "text"
    assert p.text.toPlainText().splitlines() == [
        "--- a/opt/app/config.ini",
        "+++ b/opt/app/config.ini",
        "@@ -1 +1 @@",
        "-v=1",
        "+v=2",
    ]
    assert p.highlighter.document() is p.text.document()
    tints = {s.cursor.block().text(): s.format.background().color().name() for s in p.text.extraSelections()}
    assert set(tints) == {"-v=1", "+v=2"} and tints["-v=1"] != tints["+v=2"]
    assert "mtime" not in p.title.text()  # ignored unless strict


def test_a_binary_file_shows_sizes_digests_and_a_hex_diff(qtbot, windows, tmp_path):
    a = build(Image([Layer([File("bin/tool", b"\x7fELF\0\1\2" * 10)])]), tmp_path / "a.tar", "docker25")
    b = build(Image([Layer([File("bin/tool", b"\x7fELF\0\1\3" * 11)])]), tmp_path / "b.tar", "oci-archive")
    w = compare(qtbot, windows, SideSpec(str(a)), SideSpec(str(b)))
    with qtbot.waitSignal(w.file_shown, timeout=TIMEOUT):
        assert w.select_path("bin/tool")
    p = w.file_panel
    assert p.kind == "binary" and p.title.text().startswith("/bin/tool differs (binary)")
    lines = p.hex_text().splitlines()
    assert lines[0].startswith("A: 70 bytes") and "sha256:" in lines[0]
    assert lines[1].startswith("B: 77 bytes")
    assert "first difference at byte 6 (0x6)" in lines
    assert "A  00000000  7f 45 4c 46 00 01 02 7f  45 4c 46 00 01 02 7f 45  |.ELF....ELF....E|" in lines
    assert "B  00000000  7f 45 4c 46 00 01 03 7f  45 4c 46 00 01 03 7f 45  |.ELF....ELF....E|" in lines
    assert any(x.startswith("B  00000040  ") for x in lines)  # B's longer tail, A's row empty there
    assert first_difference(b"abc", b"abc") is None and first_difference(b"ab", b"abc") == 2


def test_umoci_edge_against_umoci_insert_shares_no_layer(qtbot, windows, capsys, qtmodeltester):
    need_shared()
    w = compare(qtbot, windows, SideSpec(UMOCI_EDGE), SideSpec(UMOCI_INSERT))
    assert w.result is not None, w.error
    doc = cli_json(capsys, UMOCI_EDGE, UMOCI_INSERT)
    assert not any(p.joined for p in w.layers_model.pairs)
    assert sum(p.a is not None for p in w.layers_model.pairs) == 8
    assert sum(p.b is not None for p in w.layers_model.pairs) == 3
    rows = all_rows(w.tree_model)
    assert by_change(rows, ChangeKind.ADDED) == {x["path"] for x in doc["added"]}
    assert by_change(rows, ChangeKind.REMOVED) == {x["path"] for x in doc["removed"]}
    assert by_change(rows, ChangeKind.MODIFIED) == {x["path"] for x in doc["changed"]}
    assert w.verdict.text() == doc["verdict"]
    keys = {w.config_model.index(r, 0).data() for r in range(w.config_model.rowCount())}
    assert {"Env", "Cmd", "WorkingDir", "User", "Labels"} <= keys
    qtmodeltester.check(w.tree_model)
    qtmodeltester.check(w.layers_model)


# ---- the jobs ---------------------------------------------------------------------------------------
def test_the_index_is_made_off_the_gui_thread(qtbot, windows, monkeypatch):
    need_shared()
    threads: list[threading.Thread] = []
    real = DiffIndex.build.__func__  # type: ignore[attr-defined]

    def spy(cls, *args, **kwargs):
        threads.append(threading.current_thread())
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(DiffIndex, "build", classmethod(spy))
    w = compare(qtbot, windows, SideSpec(MULTI, 1), SideSpec(MULTI, 0))
    assert w.result is not None and threads and threading.main_thread() not in threads
    assert w.verdict.text() == "19 files differ (12 added, 6 removed, 1 changed), +14 bytes"


def test_closing_the_window_cancels_the_job_and_closes_the_archives(qtbot, monkeypatch):
    need_shared()
    closed: list[object] = []
    real_close = flow.Opened.close
    monkeypatch.setattr(flow.Opened, "close", lambda self: (closed.append(self), real_close(self)))

    def slow_load(opened, ia, ib, strict, job):  # a long load: runs until it is cancelled
        while not job.cancelled():
            time.sleep(0.01)
        raise Cancelled()

    monkeypatch.setattr(compare_window, "load_and_diff", slow_load)
    w = CompareWindow(SideSpec(UMOCI_EDGE), SideSpec(UMOCI_INSERT))
    w.show()
    shown: list[object] = []
    w.compared.connect(lambda: shown.append(1))
    w.start()
    qtbot.waitUntil(lambda: w._opened is not None, timeout=TIMEOUT)  # loading now
    job = w._jobs.job
    assert job is not None and w.cancel_button.isVisible()
    w.close()
    assert job.cancelled()
    assert not closed  # not while the job may still read them...
    qtbot.waitUntil(lambda: job.done and bool(closed), timeout=TIMEOUT)  # ...but once it stopped
    assert not shown


def test_closing_while_opening_closes_what_the_job_opened(qtbot, monkeypatch):
    need_shared()
    closed: list[object] = []
    real_close = flow.Opened.close
    monkeypatch.setattr(flow.Opened, "close", lambda self: (closed.append(self), real_close(self)))
    w = CompareWindow(SideSpec(UMOCI_EDGE), SideSpec(UMOCI_INSERT))
    w.start()
    job = w._jobs.job
    w.close()
    assert job.cancelled()
    qtbot.waitUntil(lambda: job.done, timeout=TIMEOUT)
    qtbot.wait(50)
    # the job stopped half-way (what it had opened closed by open_both), or it had opened both
    # archives: then they were closed when its result was dropped
    assert all(isinstance(o, flow.Opened) for o in closed)


def test_a_new_comparison_supersedes_the_one_running(base_vs_edge, qtbot, capsys):
    w = base_vs_edge
    first = w.result
    w.strict.setChecked(True)  # starts a strict diff...
    assert w._jobs.running
    with qtbot.waitSignal(w.compared, timeout=TIMEOUT):
        w.recompare(swap=True)  # ...replaced at once by a strict, swapped one
    qtbot.wait(100)
    r = w.result
    assert r is not None and r is not first and r.diff.strict
    assert r.diff.a.image.name == first.diff.b.image.name  # swapped: the edge image is A now
    assert w.side_a.text().startswith("<b>A</b>  docker20-edge.save.tar")
    assert w.verdict.text() == cli_json(capsys, EDGE, MULTI, "--image-b", "1", "--strict")["verdict"]
    assert w.verdict.text().startswith("26 files differ (6 added, 12 removed, 8 changed)")  # mtimes too


def test_a_bad_second_image_is_one_line_and_the_view_stays_usable(qtbot, windows, tmp_path):
    need_shared()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive at all")
    w = compare(qtbot, windows, SideSpec(EDGE), SideSpec(str(junk)))
    assert w.result is None and w.error and "\n" not in w.error and "junk.tar" in w.error
    assert w.message.isVisible() and w.message.text() == w.error
    assert w.verdict.text() == "Nothing to compare" and not w.cancel_button.isVisible()
    assert w.tree_model.rowCount() == 0
    w2 = compare(qtbot, windows, SideSpec(MULTI, 7), SideSpec(EDGE))
    assert w2.error is not None and "image index 7 is out of range (0..1)" in w2.error


# ---- the ways in ------------------------------------------------------------------------------------
@pytest.fixture
def main_window(qtbot):
    need_shared()
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def test_file_compare_with_opens_a_compare_window_for_the_image_shown(main_window, qtbot, windows):
    w = main_window
    names = [a.text() for a in w.menuBar().actions()[0].menu().actions()]
    assert names.index("Compare &With…") == names.index("Open the &Sample Image") + 1
    assert not w.commands.compare_action.isEnabled()  # nothing shown yet
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(UMOCI_EDGE))
    assert w.commands.compare_action.isEnabled()
    cw = compare_with(w, UMOCI_INSERT)
    assert cw is not None
    windows.append(cw)
    assert cw.spec_a == SideSpec(UMOCI_EDGE, 0) and cw.spec_b == SideSpec(UMOCI_INSERT)
    qtbot.waitUntil(lambda: cw.result is not None, timeout=TIMEOUT)
    assert not cw.layers_model.pairs[0].joined


def test_a_ctrl_drop_compares_a_plain_drop_opens(main_window, qtbot, windows):
    w = main_window
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_path(Path(EDGE))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(MULTI)])
    before = set(flow._OPEN)
    ev = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
    )
    w.dropEvent(ev)
    opened = set(flow._OPEN) - before
    assert len(opened) == 1
    cw = opened.pop()
    windows.append(cw)
    assert cw.spec_a.reference == EDGE and cw.spec_b.reference == MULTI
    assert w.path == Path(EDGE)  # the window still shows its image
    assert not compare_drop(w, Qt.KeyboardModifier.NoModifier, Path(MULTI))
    cw.pick_image = lambda archive: 1  # the bbase image of the multi-image save
    qtbot.waitUntil(lambda: cw.result is not None or cw.error is not None, timeout=TIMEOUT)


def test_the_image_picker_compares_two_selected_images(qtbot, windows, monkeypatch):
    need_shared()
    archive = open_archive(Path(MULTI))
    dlg = ImagePicker(None, archive, compare=True)
    qtbot.addWidget(dlg)
    assert dlg.compare_button is not None and not dlg.compare_button.isEnabled()
    assert dlg.chosen() == 0  # Open still opens the current one
    dlg.table.selectAll()
    assert dlg.compare_button.isEnabled() and dlg.selected() == [0, 1]
    dlg.compare_button.click()
    assert dlg.result() == ImagePicker.COMPARE and dlg.compare_pair == (0, 1)
    plain = ImagePicker(None, archive)
    qtbot.addWidget(plain)
    assert plain.compare_button is None  # as before, unless asked
    made: list[CompareWindow] = []
    monkeypatch.setattr(flow, "open_compare", lambda parent, a, b: made.append((a, b)))
    flow.compare_images(None, archive, 1, 0)
    assert made == [(SideSpec(MULTI, 1), SideSpec(MULTI, 0))]
    archive.close()


def test_the_compare_with_dialog_takes_a_file_or_a_reference(qtbot):
    dlg = flow.CompareWithDialog(None, "a.tar")
    qtbot.addWidget(dlg)
    dlg.reference.setText("docker://")
    dlg._accept()
    assert not dlg.problem.isHidden() and dlg.result() != dlg.DialogCode.Accepted.value
    assert "\n" not in dlg.problem.text()
    dlg.reference.setText("  docker-daemon:corpus/app:1 ")
    dlg._accept()
    assert dlg.result() == dlg.DialogCode.Accepted.value and dlg.chosen() == "docker-daemon:corpus/app:1"
