"""One call into Python per painted cell, not one per role.

Qt 6's item delegates ask a model for a cell's roles (display, decoration, font, alignment,
colours, check state: seven) with one ``multiData`` call, which by default calls ``data`` once per
role. For a model written in Python each of those calls enters the interpreter and, while workers
run, waits for its lock; a repaint of the file tree made about 950 such calls, and took 175-200 ms
instead of 23 ms with two workers busy (benchmarks/README.md). A model that mixes in ``CellData``
answers the whole span in one entry: ``multiData`` calls ``cell_roles`` (by default ``data`` per
role, in Python), a model may answer from what it looks up once per cell.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, QPersistentModelIndex

from .worker import gui_busy

_Index = QModelIndex | QPersistentModelIndex


class CellData:
    """A mixin for a Qt item model (before the Qt class in the bases): ``multiData`` in one call."""

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData, /) -> None:
        gui_busy()  # workers give way meanwhile (gui/worker.py)
        if isinstance(roleDataSpan, QModelRoleData):
            cells = [roleDataSpan]
        else:
            span: Any = roleDataSpan  # indexable (PySide's stubs do not say so)
            cells = [span[k] for k in range(roleDataSpan.size())]
        values = self.cell_roles(index, [c.role() for c in cells])
        for cell, value in zip(cells, values, strict=True):
            cell.setData(value)

    def cell_roles(self, index: _Index, roles: list[int]) -> list[Any]:
        """The values of ``roles`` for the cell at ``index`` (None: no value)."""
        data = self.data  # type: ignore[attr-defined]  # the Qt model's, which the mixin comes with
        return [data(index, role) for role in roles]
