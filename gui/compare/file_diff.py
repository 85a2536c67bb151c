"""One selected path on both sides: a unified diff of a text file with its + and − lines
highlighted, or for a binary its sizes, digests and a hex view of both sides around the first
byte that differs; for other paths what differs about them (type, link, mode, owner).

``read_file_diff`` runs in a job (it reads both files, up to core's TEXT_DIFF_CAP); the panel only
renders what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from layerscope.core.compare.side import Side
from layerscope.core.compare.textdiff import TEXT_DIFF_CAP, FileComparison, compare_file
from layerscope.core.display import exact_size, mode_string
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.layers.content import read_content
from layerscope.core.progress import CancelCheck, check_cancelled
from layerscope.core.resolve import Follow, hardlink_target, resolve_path

from ..colors import change_color, is_dark

HEX_WIDTH = 16
"""Bytes per hex row."""
HEX_BEFORE, HEX_AFTER = 2, 6
MARKED_LINES = 5000
"""Diff lines tinted across the whole width (each is an extra selection: a bound on the work)."""
"""Hex rows shown before the row of the first difference, and from it on."""


@dataclass(frozen=True, slots=True)
class HexRow:
    """Bytes of both sides at ``offset`` (empty where a side ends before it)."""

    offset: int
    a: bytes
    b: bytes


@dataclass(frozen=True, slots=True)
class FileDiffShown:
    """What the panel shows for one file: the comparison, and for a binary the first differing
    offset (None when unknown: a side too large) and the hex rows around it."""

    comparison: FileComparison
    first: int | None
    rows: tuple[HexRow, ...]


def first_difference(a: bytes, b: bytes) -> int | None:
    """The offset of the first byte that differs (where the shorter one ends when it is a prefix);
    None when they are equal."""
    n = min(len(a), len(b))
    lo = 0
    step = 4096
    while lo < n and a[lo : lo + step] == b[lo : lo + step]:
        lo += step
    for i in range(lo, min(lo + step, n)):
        if a[i] != b[i]:
            return i
    return None if len(a) == len(b) else n


def hex_rows(a: bytes, b: bytes, first: int) -> tuple[HexRow, ...]:
    start = max(0, (first // HEX_WIDTH - HEX_BEFORE) * HEX_WIDTH)
    end = (first // HEX_WIDTH + HEX_AFTER) * HEX_WIDTH
    return tuple(
        HexRow(o, a[o : o + HEX_WIDTH], b[o : o + HEX_WIDTH])
        for o in range(start, end, HEX_WIDTH)
        if o < len(a) or o < len(b)
    )


def _bytes_of(side: Side, path: str) -> bytes:
    """A regular file's bytes (up to TEXT_DIFF_CAP); b"" where the side lacks it."""
    tree = side.tree
    node = tree.nodes.get(hardlink_target(tree, resolve_path(tree, path, Follow.ALL)))
    if node is None or node.entry is None or node.entry.type is not EntryType.FILE:
        return b""
    return read_content(side.archive, tree.layers[node.layer].desc, node.entry, limit=TEXT_DIFF_CAP)


def read_file_diff(a: Side, b: Side, path: str, cancelled: CancelCheck | None = None) -> FileDiffShown:
    """Off the GUI thread: ``path`` compared, with the hex rows when it is binary. Raises
    LayerScopeError (no such file, not a file, unreadable), Cancelled."""
    found = compare_file(a, b, path, cancelled=cancelled)
    if found.text or found.same or found.too_large:
        return FileDiffShown(found, None, ())
    check_cancelled(cancelled)
    want = path.strip("/")
    da, db = _bytes_of(a, want), _bytes_of(b, want)
    first = first_difference(da, db)
    if first is None:
        return FileDiffShown(found, None, ())
    return FileDiffShown(found, first, hex_rows(da, db, first))


def _background(kind: ChangeKind, strength: float) -> QColor:
    c = change_color(kind) or QColor("gray")
    c.setAlphaF(strength)
    return c


class DiffHighlighter(QSyntaxHighlighter):
    """Unified-diff lines: ``+`` added and ``-`` removed on a tinted ground, ``@@`` hunks and the
    ``---``/``+++`` file names in their own ink."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.refresh()

    def refresh(self) -> None:
        """Take the palette's colours (after a theme change)."""
        strength = 0.28 if is_dark() else 0.16
        self._added_line = QTextCharFormat()
        self._added_line.setBackground(_background(ChangeKind.ADDED, strength))
        self._removed_line = QTextCharFormat()
        self._removed_line.setBackground(_background(ChangeKind.REMOVED, strength))
        self._added = QTextCharFormat()
        self._added.setForeground(change_color(ChangeKind.ADDED) or QColor("green"))
        self._removed = QTextCharFormat()
        self._removed.setForeground(change_color(ChangeKind.REMOVED) or QColor("red"))
        self._hunk = QTextCharFormat()
        self._hunk.setForeground(QApplication.palette().color(QPalette.ColorRole.Link))
        self._file = QTextCharFormat()
        self._file.setFontWeight(QFont.Weight.Bold)
        self.rehighlight()

    def line_format(self, added: bool) -> QTextCharFormat:
        """The ground of an added (or removed) line."""
        return self._added_line if added else self._removed_line

    def highlightBlock(self, text: str) -> None:
        if text.startswith(("+++", "---")):
            self.setFormat(0, len(text), self._file)
        elif text.startswith("@@"):
            self.setFormat(0, len(text), self._hunk)
        elif text.startswith("+"):
            self.setFormat(0, len(text), self._added)
        elif text.startswith("-"):
            self.setFormat(0, len(text), self._removed)


def _side_line(name: str, size: int | None, digest: str | None, mode: int | None) -> str:
    if size is None:
        return f"{name}: (no such file)"
    perms = f"  {mode_string('file', mode)}" if mode is not None else ""
    return f"{name}: {exact_size(size)}{perms}  {digest}"


def _ascii(row: bytes) -> str:
    return "".join(chr(x) if 32 <= x < 127 else "." for x in row)


class FileDiffPanel(QWidget):
    """A title line and a read-only monospaced text: the diff, the hex view, or a note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Select a file to compare it")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("File difference")
        self.highlighter = DiffHighlighter(self.text.document())
        self.kind = "none"  # what is shown: none, note, text, binary
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.text, 1)

    def show_loading(self, path: str) -> None:
        self.show_note(f"/{path}: reading…")

    def show_diff(self, shown: FileDiffShown, meta: list[str] | None = None) -> None:
        """A file compared: its diff, or sizes, digests and the hex rows; ``meta``: what else
        differs about it (mode, owner), under the title."""
        f = shown.comparison
        more = "".join("\n" + m for m in meta or [])
        if f.same:
            self.show_note(f"{f.path}: the same bytes on both sides{more}", self._sides(f))
            return
        if f.text:
            self.kind = "text"
            self.title.setText(f"{f.path}: unified diff (A → B){more}")
            self.highlighter.setDocument(self.text.document())
            self.text.setPlainText("\n".join(f.lines))
            self._mark_lines(f.lines)
            return
        self.kind = "binary"
        self.highlighter.setDocument(None)
        self.text.setExtraSelections([])
        why = "too large for a text diff" if f.too_large else "binary"
        self.title.setText(f"{f.path} differs ({why}){more}")
        self.text.clear()
        cur = self.text.textCursor()
        plain = QTextCharFormat()
        for line in self._sides(f):
            cur.insertText(line + "\n", plain)
        if shown.first is not None:
            cur.insertText(f"\nfirst difference at byte {shown.first:,} (0x{shown.first:x})\n\n", plain)
            self._hex_rows(cur, shown)
        self.text.moveCursor(QTextCursor.MoveOperation.Start)

    def _mark_lines(self, lines: tuple[str, ...]) -> None:
        """The + and − lines tinted across the whole width (the first MARKED_LINES of them; the
        highlighter tints the text of every line)."""
        doc = self.text.document()
        sel: list[QTextEdit.ExtraSelection] = []
        for n, line in enumerate(lines[:MARKED_LINES]):
            if line.startswith(("+++", "---")) or not line.startswith(("+", "-")):
                continue
            es = QTextEdit.ExtraSelection()
            es.format = QTextCharFormat(self.highlighter.line_format(line[0] == "+"))
            es.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            es.cursor = QTextCursor(doc.findBlockByNumber(n))
            sel.append(es)
        self.text.setExtraSelections(sel)

    def show_note(self, title: str, lines: list[str] | None = None) -> None:
        """A path without a content diff (a folder, a link, metadata), or a message."""
        self.kind = "note"
        self.highlighter.setDocument(None)
        self.text.setExtraSelections([])
        self.title.setText(title)
        self.text.setPlainText("\n".join(lines or []))

    @staticmethod
    def _sides(f: FileComparison) -> list[str]:
        return [
            _side_line("A", f.a.size, f.a.digest, f.a.mode),
            _side_line("B", f.b.size, f.b.digest, f.b.mode),
        ]

    def _hex_rows(self, cur: QTextCursor, shown: FileDiffShown) -> None:
        plain = QTextCharFormat()
        dim = QTextCharFormat()
        dim.setForeground(QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        strength = 0.45 if is_dark() else 0.3
        marks = {"A": QTextCharFormat(), "B": QTextCharFormat()}
        marks["A"].setBackground(_background(ChangeKind.REMOVED, strength))
        marks["B"].setBackground(_background(ChangeKind.ADDED, strength))
        for r in shown.rows:
            for name, mine, other in (("A", r.a, r.b), ("B", r.b, r.a)):
                cur.insertText(f"{name}  {r.offset:08x}  ", dim)
                for k in range(HEX_WIDTH):
                    sep = "  " if k == 8 else " " if k else ""
                    cur.insertText(sep, plain)
                    if k >= len(mine):
                        cur.insertText("  ", plain)
                        continue
                    differs = k >= len(other) or mine[k] != other[k]
                    cur.insertText(f"{mine[k]:02x}", marks[name] if differs else plain)
                cur.insertText("  |", dim)
                for k, ch in enumerate(_ascii(mine)):
                    differs = k >= len(other) or mine[k] != other[k]
                    cur.insertText(ch, marks[name] if differs else plain)
                cur.insertText("|\n", dim)
            cur.insertText("\n", plain)

    def hex_text(self) -> str:
        """What the hex view says (tests)."""
        return self.text.toPlainText()
