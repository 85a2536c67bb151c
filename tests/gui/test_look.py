"""The look: layer colours that can be told apart, marks that survive colour blindness, the legend,
the View and Help menus with every shortcut, toolbar icons, and the light/dark theme switch.

Measures: CIEDE2000 (ΔE00) between tints, where about 2.3 is the just-noticeable difference and
10 is what categorical palettes aim for between classes ("different colours at a glance", not
"a shade of the same"); the old tints of layers #1 and #6 were 4.9 apart. WCAG 2 contrast ratio
between a row's text and its tint, at least 4.5 (AA for normal text).
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QImage, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem, QToolBar, QToolButton

from layerscope.core.archive.open import open_archive
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.views import Row
from layerscope.gui import icons, marks, settings, theme
from layerscope.gui.colors import (
    DARK_TINTS,
    LIGHT_TINTS,
    MIN_TEXT_CONTRAST,
    contrast_ratio,
    delta_e,
    is_dark,
    layer_color,
    text_color,
)
from layerscope.gui.models import PATH_ROLE
from layerscope.gui.panels.actions import ShortcutsDialog, keys_text, shortcut_table
from layerscope.gui.window import MainWindow
from tests.conftest import REAL, need_shared

TIMEOUT = 30000
MIN_DELTA_E = 10.0
"""ΔE00 any two of the first 12 layer tints keep (see the module docstring)."""


@pytest.fixture
def palettes(qapp):
    """Run the body under Fusion's light palette, then under LayerScope's dark one."""
    saved = qapp.palette()

    def each():
        for pal in (theme.light_palette(), theme.dark_palette()):
            qapp.setPalette(pal)
            yield pal

    yield each
    qapp.setPalette(saved)


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def load_sample(qtbot, w):
    with qtbot.waitSignal(w.loaded, timeout=TIMEOUT):
        w.open_sample()
    return w


def visible_paths(model, parent=None):
    parent = parent or QModelIndex()
    out = []
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        out.append(model.data(idx, PATH_ROLE))
        if model.canFetchMore(idx):
            model.fetchMore(idx)
        out.extend(visible_paths(model, idx))
    return out


# ---- colours ---------------------------------------------------------------------------------------
def test_delta_e_of_black_and_white_and_of_a_colour_with_itself():
    assert delta_e(QColor("#ff0000"), QColor("#ff0000")) == 0.0
    assert delta_e(QColor("#000000"), QColor("#ffffff")) == pytest.approx(100.0, abs=0.05)


def test_delta_e_matches_the_reference_pairs(monkeypatch):
    """Sharma's pairs are given in Lab: feed them through ``lab`` directly."""
    import layerscope.gui.colors as colors

    pairs = [  # (L1, a1, b1), (L2, a2, b2), ΔE00
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
    ]
    for first, second, want in pairs:
        labs = iter([first, second])
        monkeypatch.setattr(colors, "lab", lambda _c, labs=labs: next(labs))
        assert colors.delta_e(QColor(), QColor()) == pytest.approx(want, abs=1e-4)


def test_the_old_tints_fail_the_measure():
    """The defect: #1 (247,220,231) and #6 (247,220,245) looked alike; the measure says so."""
    assert delta_e(QColor(247, 220, 231), QColor(247, 220, 245)) < MIN_DELTA_E


def test_the_first_12_layer_tints_differ_on_light_and_dark(palettes):
    for pal in palettes():
        tints = [layer_color(i) for i in range(12)]
        worst = min(delta_e(a, b) for a, b in itertools.combinations(tints, 2))
        assert worst >= MIN_DELTA_E, (pal.color(QPalette.ColorRole.Window).name(), worst)
        # a tint never vanishes into the tree's own background
        base = pal.color(QPalette.ColorRole.Base)
        assert min(delta_e(t, base) for t in tints) >= MIN_DELTA_E
        # nor into the selection, with its text readable
        highlight = pal.color(QPalette.ColorRole.Highlight)
        assert min(delta_e(t, highlight) for t in tints) >= MIN_DELTA_E
        assert contrast_ratio(highlight, pal.color(QPalette.ColorRole.HighlightedText)) >= 3.0
    assert len(set(LIGHT_TINTS)) == len(LIGHT_TINTS) and len(set(DARK_TINTS)) == len(DARK_TINTS)


def test_text_reads_on_every_tint(palettes):
    for pal in palettes():
        text = pal.color(QPalette.ColorRole.Text)
        for i in range(len(LIGHT_TINTS)):
            tint = layer_color(i)
            assert contrast_ratio(text_color(tint), tint) >= MIN_TEXT_CONTRAST, (i, tint.name())
            assert contrast_ratio(text, tint) >= MIN_TEXT_CONTRAST  # the palette's own text too
        assert is_dark() == (pal.color(QPalette.ColorRole.Window).lightness() < 128)


def test_a_layer_has_one_colour_in_tree_timeline_and_legend(window, qtbot):
    load_sample(qtbot, window)
    model = window.tree_model
    for r in range(model.rowCount()):
        idx = model.index(r, 0)
        layer = model.row_info(model.data(idx, PATH_ROLE)).layer
        want = layer_color(layer)
        assert QBrush(model.data(idx, Qt.ItemDataRole.BackgroundRole)).color() == want
        fg = QBrush(model.data(idx, Qt.ItemDataRole.ForegroundRole)).color()
        assert contrast_ratio(fg, want) >= MIN_TEXT_CONTRAST
    tl = window.timeline_model
    for r in range(tl.rowCount()):
        step = tl.step(r)
        if step.layer is not None:
            assert tl.data(tl.index(r, 0), Qt.ItemDataRole.DecorationRole) == layer_color(step.layer)
    legend = window.explorer.legend
    assert sorted(legend.chips) == [li.index for li in window.session.layers]
    for layer, chip in legend.chips.items():
        assert f"background: {layer_color(layer).name()}" in chip.styleSheet()
        assert chip.text().startswith(f"#{layer} ")
    # the timeline's size bar is painted in the same colour
    delegate = window.timeline.itemDelegateForColumn(1)
    r = tl.row_of_layer(1)
    img = QImage(110, 24, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    opt = QStyleOptionViewItem()
    opt.rect = img.rect()
    p = QPainter(img)
    delegate.paint(p, opt, tl.index(r, 1))
    p.end()
    assert img.pixelColor(4, 12) == layer_color(1)


def test_the_legend_asks_for_a_layer_and_follows_the_current_one(window, qtbot):
    load_sample(qtbot, window)
    legend = window.explorer.legend
    assert legend.isVisible()
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        legend.chips[2].click()
    assert window.current_layer == 2 and legend.current == 2
    assert legend.chips[2].font().bold() and not legend.chips[0].font().bold()
    window.commands.legend_action.trigger()  # View ▸ Show the Legend: off, and remembered
    assert not legend.isVisible() and settings.LEGEND_VISIBLE.get() is False


def test_the_legend_keeps_its_chips_for_the_same_steps(window, qtbot):
    """An open shows the chips twice (reading, loaded): the same steps keep the
    same chips (a chip's style sheet costs milliseconds); other steps make others; a layer switch
    restyles the two chips that change and leaves each chip's look as a full restyle makes it."""
    load_sample(qtbot, window)
    legend = window.explorer.legend
    chips = dict(legend.chips)
    steps = window.session.image.history
    legend.show_layers(steps)
    assert legend.chips == chips and all(legend.chips[k] is b for k, b in chips.items())
    for layer in (1, 3, 1):
        legend.show_current(layer)
        looks = {k: (b.styleSheet(), b.font().bold()) for k, b in legend.chips.items()}
        legend._style_chips()
        assert looks == {k: (b.styleSheet(), b.font().bold()) for k, b in legend.chips.items()}
        assert [k for k, (_s, bold) in looks.items() if bold] == [layer]
    legend.show_layers(steps[:1])
    assert len(legend.chips) <= 1 and all(b not in chips.values() for b in legend.chips.values())
    legend.show_layers(steps)
    kept = dict(legend.chips)
    other = [
        dataclasses.replace(s, created_by=s.created_by + " && true") for s in steps
    ]  # same layers, other commands
    legend.show_layers(other)
    assert all(legend.chips[k] is not b for k, b in kept.items())


# ---- marks ---------------------------------------------------------------------------------------
def _shape(mark: marks.Mark) -> set[tuple[int, int]]:
    """The pixels a mark covers, ignoring its colour."""
    img = marks.pixmap(mark, 32).toImage()
    return {(x, y) for y in range(32) for x in range(32) if img.pixelColor(x, y).alpha() > 96}


def test_marks_differ_by_shape_not_only_colour(qapp):
    shapes = {m: _shape(m) for m in marks.Mark}
    for a, b in itertools.combinations(marks.Mark, 2):
        diff = len(shapes[a] ^ shapes[b])
        assert diff >= 40, (a, b, diff)  # at least a stroke's worth of pixels apart
    glyphs = [marks.INFO[m].glyph for m in marks.Mark]
    assert len(set(glyphs)) == len(glyphs)


def _row(change: ChangeKind, entry: object | None = object()) -> Row:
    return Row("a", "a", EntryType.DIR, 0, 0, change, None, entry, 0, 0)  # type: ignore[arg-type]


def test_mark_of_a_row():
    assert marks.mark_of(_row(ChangeKind.ADDED)) is marks.Mark.ADDED
    assert marks.mark_of(_row(ChangeKind.REMOVED)) is marks.Mark.REMOVED
    assert marks.mark_of(_row(ChangeKind.UNMODIFIED)) is marks.Mark.UNMODIFIED
    assert marks.mark_of(_row(ChangeKind.UNMODIFIED, None)) is marks.Mark.IMPLIED
    assert marks.text(marks.Mark.REMOVED) == "− removed"


def test_the_tree_shows_marks_and_the_legend_explains_them(window, qtbot):
    load_sample(qtbot, window)
    model = window.tree_model
    assert model.rowCount() > 0
    idx = model.index(0, 3)
    row = model.row_info(model.data(model.index(0, 0), PATH_ROLE))
    mark = marks.mark_of(row)
    assert model.data(idx, Qt.ItemDataRole.DisplayRole) == marks.label(mark)
    icon = model.data(idx, Qt.ItemDataRole.DecorationRole)
    assert icon.cacheKey() == marks.icon(mark).cacheKey()
    legend = window.explorer.legend
    assert set(legend.mark_labels) == set(marks.Mark)
    for m, label in legend.mark_labels.items():
        assert not label.pixmap().isNull() and marks.INFO[m].meaning in label.toolTip()


# ---- hide unmodified -------------------------------------------------------------------------------
def test_hide_unmodified_works_in_the_merged_view(window, qtbot):
    """The defect: in the merged view every row is the change that made it, never Unmodified, so
    the toggle hid nothing. Now it keeps what the selected layer changed and the folders above."""
    load_sample(qtbot, window)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        window.select_layer(3)
    everything = visible_paths(window.tree_model)
    window.hide_unmodified.click()
    assert window.commands.hide_action.isChecked()
    kept = visible_paths(window.tree_model)
    view = window.tree_model.view
    assert kept and len(kept) < len(everything)
    assert all(view.changed(p) for p in kept)
    assert [p for p in everything if view.changed(p)] == kept
    assert {p.split("/")[0] for p in kept} == {"var"}  # layer #3 only touched /var


# ---- menus, shortcuts, icons -------------------------------------------------------------------------
def test_view_and_help_menus(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[:2] == ["&File", "&View"] and titles[-1] == "&Help"  # (Go, the explorer's, between)
    view = [a.text() for a in window.commands.view_menu.actions()]
    for want in ("&Merged", "&Layer changes", "&Hide Unmodified", "Show the Le&gend", "&Theme"):
        assert want in view
    assert [a.text() for a in window.commands.help_menu.actions()] == [
        "&Keyboard Shortcuts",
        "&About LayerScope",
    ]


def test_every_shortcut_is_listed_and_in_its_tooltip(window, qtbot):
    load_sample(qtbot, window)  # the tooltips are labelled by themselves, after the panels are made
    dlg = window.commands.show_shortcuts()
    qtbot.addWidget(dlg)
    assert isinstance(dlg, ShortcutsDialog)
    listed = {(name, keys) for name, keys, _where in dlg.rows()}
    assert dlg.rows() == shortcut_table(window)
    found = 0
    for act in window.findChildren(QAction):
        keys = keys_text(act.shortcuts())
        if not keys:
            continue
        found += 1
        assert any(k == keys for _n, k in listed), (act.text(), keys)
        first = keys_text(act.shortcuts()[:1])
        assert f"({first}" in act.toolTip(), (act.text(), act.toolTip())  # the main key, at least
    for sc in window.findChildren(QShortcut):
        if keys_text(sc.keys()):
            found += 1
            assert any(k == keys_text(sc.keys()) for _n, k in listed)
    assert found >= 9
    all_keys = {k for _n, k in listed}
    for k in ("Ctrl+O", "Ctrl+M", "Ctrl+H", "Ctrl+F", "Ctrl+1", "Ctrl+2", "F1"):
        assert k in all_keys, k
    assert "Ctrl+H" in window.hide_unmodified.toolTip()


def test_shortcuts_do_what_the_list_says(window, qtbot):
    load_sample(qtbot, window)
    with qtbot.waitSignal(window.view_ready, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.mode_layer.isChecked() and window.controller.own_changes
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert window.hide_unmodified.isChecked() and window.controller.hide_unmodified


def test_toolbar_actions_have_icons(window):
    tb = window.findChild(QToolBar, "main-toolbar")
    buttons = [a for a in tb.actions() if a.text()] + [
        b.defaultAction() for b in tb.findChildren(QToolButton) if b.defaultAction() is not None
    ]
    assert len(buttons) >= 4
    for act in buttons:
        assert not act.icon().isNull(), act.text()
    for name in icons.action_icon_names():
        assert not icons.action_icon(name).isNull(), name


# ---- theme -----------------------------------------------------------------------------------------
def test_the_theme_switch_applies_live_and_is_remembered(window, qtbot, qapp):
    saved = qapp.palette()
    try:
        load_sample(qtbot, window)
        model, legend = window.tree_model, window.explorer.legend
        assert model.rowCount() > 0  # the root's children are made when first asked for
        window.commands.theme_actions["dark"].trigger()
        assert settings.THEME.get() == "dark" and is_dark()
        assert model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole).color() == QColor(DARK_TINTS[0])
        qtbot.waitUntil(lambda: f"background: {DARK_TINTS[0]}" in legend.chips[0].styleSheet())
        dark_icon = window.commands.hide_action.icon().cacheKey()
        window.commands.theme_actions["light"].trigger()
        assert settings.THEME.get() == "light" and not is_dark()
        assert model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole).color() == QColor(LIGHT_TINTS[0])
        qtbot.waitUntil(lambda: f"background: {LIGHT_TINTS[0]}" in legend.chips[0].styleSheet())
        qtbot.waitUntil(lambda: window.commands.hide_action.icon().cacheKey() != dark_icon)
        window.commands.theme_actions["system"].trigger()
        assert settings.THEME.get() == "system"
    finally:
        qapp.setPalette(saved)


def test_the_remembered_theme_applies_at_start(qapp):
    saved = qapp.palette()
    try:
        settings.THEME.set("dark")
        from layerscope.gui.app import setup_application

        assert setup_application() is QApplication.instance() and is_dark()
        settings.THEME.set("nonsense")
        assert settings.THEME.get() == "system"
    finally:
        theme.apply("system")
        qapp.setPalette(saved)


def test_a_long_package_summary_leaves_the_command_its_room(qtbot):
    """Beside the treemap the timeline is narrow: the Packages column fits its text only up to a share
    of the view (the full summary is in the tooltip), and Command keeps the most room."""
    from layerscope.gui.panels.timeline import PACKAGES_SHARE, TimelinePanel
    from layerscope.gui.timeline_model import LayerTimelineModel

    need_shared()
    a = open_archive(REAL / "umoci-edge.oci.tar")
    im = a.images[0]
    t = TimelinePanel()
    qtbot.addWidget(t)
    t.resize(620, 300)
    t.show()
    t.show_steps(im.history, {d.index: d.size for d in im.layers})
    long = "+" + ", ".join(f"package-{i} 1.{i}" for i in range(40))
    t.timeline_model.set_package_summaries({d.index: long for d in im.layers})
    qtbot.waitUntil(lambda: t.columnWidth(LayerTimelineModel.PACKAGES) > 0)
    qtbot.wait(50)  # the header's delayed resize of its automatic sections
    pk, cmd = t.columnWidth(LayerTimelineModel.PACKAGES), t.columnWidth(2)
    assert pk <= t.viewport().width() * PACKAGES_SHARE + 1 and cmd > pk
    assert long in t.timeline_model.index(0, LayerTimelineModel.PACKAGES).data(Qt.ItemDataRole.ToolTipRole)


def test_a_narrow_timeline_gives_created_and_packages_room_to_the_command(qtbot):
    """In a narrow pane (the window at 1400 px with the treemap shown: about 300 px) the Command column
    was a sliver ("L…"); there the timeline shows #, Size and Command, and each row's tooltip keeps
    the date and the packages. Wider, the columns come back."""
    from layerscope.gui.panels.timeline import CREATED, NARROW_PX, TimelinePanel
    from layerscope.gui.timeline_model import LayerTimelineModel

    need_shared()
    im = open_archive(REAL / "umoci-edge.oci.tar").images[0]
    t = TimelinePanel()
    qtbot.addWidget(t)
    t.show()
    t.show_steps(im.history, {d.index: d.size for d in im.layers})
    t.resize(320, 240)
    qtbot.waitUntil(lambda: t.isColumnHidden(CREATED) and t.isColumnHidden(LayerTimelineModel.PACKAGES))
    qtbot.wait(50)
    assert t.columnWidth(2) > 0.3 * t.viewport().width()
    tip = t.timeline_model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert "Created: " in tip
    t.resize(NARROW_PX + 200, 240)
    pk = LayerTimelineModel.PACKAGES
    qtbot.waitUntil(lambda: not t.isColumnHidden(CREATED) and not t.isColumnHidden(pk))


def test_a_folder_its_layer_does_not_list_is_marked_implied_though_it_shows_attributes():
    """In a layer's own changes, a folder above unchanged paths that the layer's tar does not list
    shows the lower layer's attributes (core/views.py) but is marked "… implied folder", not
    "· unmodified — listed again": the layer does not list it."""
    from layerscope.core.merge import merge
    from layerscope.core.views import LayerView
    from layerscope.gui.marks import Mark, mark_of
    from tests.core.test_merge_table import d, f, stack

    layers = stack([d("p"), d("p/q"), f("p/q/x", 4)], [d("p/q")], [d("p", mode=0o700)])
    v = LayerView(merge(layers), 1)
    p, q = v.row("p"), v.row("p/q")
    assert p.entry is not None and p.stored_in == 0
    assert mark_of(p) is Mark.IMPLIED and mark_of(q) is Mark.UNMODIFIED


def test_a_style_sheet_is_set_only_when_it_changes(qapp):
    """Setting a widget's style sheet polishes it again (milliseconds): the same sheet is not set twice."""
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    polished: list[int] = []
    real = label.setStyleSheet
    label.setStyleSheet = lambda sheet: (polished.append(1), real(sheet))  # type: ignore[method-assign]
    theme.set_style_sheet(label, "")
    theme.set_style_sheet(label, "color: red")
    theme.set_style_sheet(label, "color: red")
    assert label.styleSheet() == "color: red" and len(polished) == 1
