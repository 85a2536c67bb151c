"""Where the user is (a layer, a view mode, a selected path) and the Back/Forward history of places.

A jump (another layer or view mode, a path followed from a link, a wasted copy, a history entry, a
breadcrumb) records the place it leaves; Back returns to it and Forward undoes the Back, as in a
web browser. Plain Python: the explorer (gui/panels/explorer.py) decides what a jump is and shows a
place; this module only keeps the list.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PLACES = 200
"""Places kept behind (and ahead of) the current one; the oldest are forgotten first."""


@dataclass(frozen=True, slots=True)
class Place:
    """A layer, its own changes (True) or the merged filesystem up to it (False), and the path
    selected there ("" when nothing is)."""

    layer: int
    own_changes: bool
    path: str = ""

    def describe(self) -> str:
        view = "changes" if self.own_changes else "merged"
        where = f" /{self.path}" if self.path else ""
        return f"layer #{self.layer} ({view}){where}"


class History:
    """The places behind and ahead of the current one."""

    def __init__(self, limit: int = MAX_PLACES) -> None:
        self._limit = limit
        self._back: list[Place] = []
        self._forward: list[Place] = []

    def clear(self) -> None:
        self._back.clear()
        self._forward.clear()

    def can_go_back(self) -> bool:
        return bool(self._back)

    def can_go_forward(self) -> bool:
        return bool(self._forward)

    def peek_back(self) -> Place | None:
        return self._back[-1] if self._back else None

    def peek_forward(self) -> Place | None:
        return self._forward[-1] if self._forward else None

    def record(self, left: Place) -> bool:
        """A jump left ``left``: it goes behind, and what was ahead is forgotten. False (nothing
        changes) when ``left`` is already the place behind."""
        if self._back and self._back[-1] == left:
            return False
        self._back.append(left)
        del self._back[: -self._limit]
        self._forward.clear()
        return True

    def back(self, current: Place) -> Place | None:
        """The place to go back to from ``current`` (which goes ahead); None when there is none."""
        if not self._back:
            return None
        self._forward.append(current)
        del self._forward[: -self._limit]
        return self._back.pop()

    def forward(self, current: Place) -> Place | None:
        """The place to go forward to from ``current`` (which goes behind); None when there is none."""
        if not self._forward:
            return None
        self._back.append(current)
        del self._back[: -self._limit]
        return self._forward.pop()
