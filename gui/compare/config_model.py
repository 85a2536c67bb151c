"""The config differences: one row per setting that differs (Env, Cmd, WorkingDir, Labels, ...),
then one per history step added, removed or changed; A's value and B's side by side."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontDatabase

from layerscope.core.compare.config import ConfigDiff
from layerscope.core.display import readable_command
from layerscope.core.kinds import ChangeKind

from .. import marks
from ..cells import CellData
from ..worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex
KEY, VALUE_A, VALUE_B = range(3)
UNSET = "(unset)"


def shown_value(v: Any) -> str:
    """A config value for a cell: lists one item a line, mappings ``key=value`` a line (ports and
    volumes, whose values are empty, by key alone), scalars as JSON; ``(unset)`` for None."""
    if v is None:
        return UNSET
    if isinstance(v, list):
        return "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in v)
    if isinstance(v, dict):
        lines = []
        for k, x in v.items():
            lines.append(
                str(k) if x in ({}, None, "") else f"{k}={x if isinstance(x, str) else json.dumps(x)}"
            )
        return "\n".join(lines)
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ConfigRow:
    key: str
    change: ChangeKind
    a: str
    b: str
    tip: str


def config_rows(c: ConfigDiff) -> list[ConfigRow]:
    rows = []
    for s in c.settings:
        change = (
            ChangeKind.ADDED if s.a is None else ChangeKind.REMOVED if s.b is None else ChangeKind.MODIFIED
        )
        tip = f"{s.key}\nA: {json.dumps(s.a, ensure_ascii=False)}\nB: {json.dumps(s.b, ensure_ascii=False)}"
        rows.append(ConfigRow(str(s.key), change, shown_value(s.a), shown_value(s.b), tip))
    for h in c.history:
        where = " ".join(
            x for x in (f"A#{h.a}" if h.a is not None else "", f"B#{h.b}" if h.b is not None else "") if x
        )
        a = readable_command(h.text_a) if h.text_a is not None else ""
        b = readable_command(h.text_b) if h.text_b is not None else ""
        tip = f"history step {where}\nA: {h.text_a or '(none)'}\nB: {h.text_b or '(none)'}"
        rows.append(ConfigRow(f"history {where}", h.change, a, b, tip))
    return rows


class ConfigDiffModel(CellData, QAbstractTableModel):
    """Rows of ``config_rows``; columns: what, A's value, B's value."""

    COLUMNS = ("Setting", "A", "B")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[ConfigRow] = []

    def set_config(self, c: ConfigDiff | None) -> None:
        self.beginResetModel()
        self.rows = config_rows(c) if c is not None else []
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.key, r.a, r.b)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.tip
        if role == Qt.ItemDataRole.DecorationRole and col == KEY:
            return marks.icon(marks.Mark(str(r.change)))
        if role == Qt.ItemDataRole.FontRole and col != KEY:
            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if role == Qt.ItemDataRole.FontRole and col == KEY:
            f = QFont()
            f.setBold(not r.key.startswith("history"))
            return f
        return None
