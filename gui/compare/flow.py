"""What to compare, the jobs that do it, and the ways in from the main window.

A comparison runs in two jobs (gui/worker.py): the first opens both sources; then, on the GUI thread,
an archive holding several images asks which one; the second loads both images (two images of one
archive share its layer indexes), diffs them and makes the ``DiffIndex`` the tree browses. Changing
"strict" or swapping A and B diffs the loaded images again in a job. The window keeps one live job in
a ``JobSlot`` (gui/jobs.py): starting one drops the one before, whose late result is freed (and what
it opened closed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive.records import Archive
from layerscope.core.compare.diff import ImageDiff, diff_images
from layerscope.core.errors import LayerScopeError
from layerscope.core.layers.index import LayerCache
from layerscope.core.progress import check_cancelled
from layerscope.core.session import LoadedImage, load
from layerscope.core.sources.open import open_source
from layerscope.core.sources.reference import parse_reference

from .. import settings
from ..worker import Job
from .index import DiffIndex
from .layers_model import LayerPair, pair_layers

if TYPE_CHECKING:
    from .window import CompareWindow


@dataclass(frozen=True, slots=True)
class SideSpec:
    """One side to compare: what names it (a path, ``docker://...``, ``docker-daemon:...``) and which
    image of it (None: the only one, or ask when there are several)."""

    reference: str
    image: int | None = None

    @property
    def name(self) -> str:
        r = self.reference
        return Path(r).name if "://" not in r and ":" not in r.split("/", 1)[0] else r


@dataclass(slots=True)
class Opened:
    """Both archives open (the same object when both sides are one archive)."""

    a: Archive
    b: Archive

    def close(self) -> None:
        self.a.close()
        if self.b is not self.a:
            self.b.close()


@dataclass(frozen=True, slots=True)
class Compared:
    """A finished comparison: both loaded images, the diff, the tree's index, the layer rows."""

    a: LoadedImage
    b: LoadedImage
    diff: ImageDiff
    index: DiffIndex
    pairs: list[LayerPair]
    content_count: int  # paths that differ in more than metadata (counted in the job)


def open_both(a: SideSpec, b: SideSpec, job: Job) -> Opened:
    """Open both sources (one archive when both name the same); nothing stays open when it stops
    half-way. Raises LayerScopeError, Cancelled."""
    archive_a = open_source(parse_reference(a.reference), progress=job.progress, cancelled=job.cancelled)
    try:
        archive_b = (
            archive_a
            if _same_source(a.reference, b.reference)
            else open_source(parse_reference(b.reference), progress=job.progress, cancelled=job.cancelled)
        )
    except BaseException:
        archive_a.close()
        raise
    opened = Opened(archive_a, archive_b)
    if job.cancelled():  # a cancelled job's result is dropped (gui/worker.py): close it here
        opened.close()
        check_cancelled(job.cancelled)
    return opened


def _same_source(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        pa, pb = Path(a), Path(b)
        return pa.exists() and pb.exists() and pa.samefile(pb)
    except OSError:
        return False


def _side_progress(job: Job, name: str) -> Callable[[str, int, int], None]:
    return lambda stage, done, total: job.progress(f"{name}: {stage}", done, total)


def load_and_diff(opened: Opened, ia: int, ib: int, strict: bool, job: Job) -> Compared:
    """Load image ``ia`` of A and ``ib`` of B, diff them, index the differences. Raises
    LayerScopeError, Cancelled."""
    la = load(opened.a, opened.a.images[ia], _side_progress(job, "A"), job.cancelled)
    check_cancelled(job.cancelled)
    cache = la.cache if opened.b is opened.a else LayerCache()
    lb = load(opened.b, opened.b.images[ib], _side_progress(job, "B"), job.cancelled, cache=cache)
    return rediff(la, lb, strict, job)


def rediff(a: LoadedImage, b: LoadedImage, strict: bool, job: Job) -> Compared:
    """Diff two loaded images and index the result. Raises LayerScopeError, Cancelled."""
    check_cancelled(job.cancelled)
    job.progress("comparing", 0, 1)
    diff = diff_images(a, b, strict=strict, cancelled=job.cancelled)
    job.progress("indexing the differences", 0, 1)
    index = DiffIndex.build(diff, a, b, job.cancelled)
    job.progress("indexing the differences", 1, 1)
    pairs = pair_layers(diff.a, diff.b, diff.layers)
    return Compared(a, b, diff, index, pairs, diff.files.content_count)


# ---- the ways in ------------------------------------------------------------------------------------
_OPEN: set[CompareWindow] = set()
"""Compare windows shown (kept until closed)."""


def open_compare(parent: QWidget | None, a: SideSpec, b: SideSpec) -> CompareWindow:
    """Show a compare window for A and B; it starts at once. It is a window of its own, not a
    child of ``parent`` (it holds its own copies of both images, and outlives the window that
    asked for it: a child would be deleted with it, without its closeEvent's release)."""
    from .window import CompareWindow

    w = CompareWindow(a, b)
    if parent is not None:
        w.move(parent.geometry().topLeft() + QPoint(40, 40))
    _OPEN.add(w)
    w.closed.connect(lambda: _OPEN.discard(w))
    w.show()
    w.start()
    return w


def shown_side(window: Any) -> SideSpec | None:
    """The image a main window shows, as a side to compare (None when it shows none)."""
    c = window.controller
    if c.session is None or c.source is None or c.archive is None:
        return None
    ref = c.source.path if c.source.path is not None else c.source.text
    n = next((i for i, im in enumerate(c.archive.images) if im is c.session.image), 0)
    return SideSpec(str(ref), n)


class CompareWithDialog(QDialog):
    """Compare the image shown with: an archive file (Choose…) or a reference typed in."""

    def __init__(self, parent: QWidget | None, shown: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare with…")
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("a file, docker://alpine:3.20, docker-daemon:app:1, podman:app:1")
        self.reference.setClearButtonEnabled(True)
        recent = settings.recent_files()
        if recent:
            self.reference.setText(
                recent[0] if recent[0] != shown else (recent[1] if len(recent) > 1 else "")
            )
        self.reference.selectAll()
        choose = QPushButton("Choose a &File…")
        choose.clicked.connect(self._choose)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()
        row = QHBoxLayout()
        row.addWidget(self.reference, 1)
        row.addWidget(choose)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("&Compare")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        intro = QLabel(f"Compare <b>{shown}</b> (A) with (B):")
        intro.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(intro)
        lay.addLayout(row)
        lay.addWidget(self.problem)
        lay.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    def _choose(self) -> None:
        from ..panels.open_dialogs import ask_archive_file

        path = ask_archive_file(self)
        if path is not None:
            self.reference.setText(str(path))

    def chosen(self) -> str:
        return self.reference.text().strip()

    def _accept(self) -> None:
        try:
            parse_reference(self.chosen())
        except LayerScopeError as exc:
            self.problem.setText(exc.message)
            self.problem.show()
            return
        self.accept()


def ask_second(parent: QWidget, shown: str) -> str | None:
    """What to compare the image shown with; None when the user cancels."""
    dlg = CompareWithDialog(parent, shown)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return dlg.chosen()


def compare_with(window: Any, reference: str | None = None) -> CompareWindow | None:
    """File > Compare With…: the main window's image (A) against one the user names (B)."""
    a = shown_side(window)
    if a is None:
        window.status_panel.flash("Open an image first, then compare it with another")
        return None
    b = reference if reference is not None else ask_second(window, window.controller.shown_name or a.name)
    if not b:
        return None
    return open_compare(window, a, SideSpec(b))


def compare_drop(window: Any, modifiers: Qt.KeyboardModifier, path: Path) -> bool:
    """A drop with Ctrl held, while an image is shown: compare it with the dropped file (True);
    else nothing happens here (False: the drop opens as usual)."""
    if not modifiers & Qt.KeyboardModifier.ControlModifier or shown_side(window) is None:
        return False
    compare_with(window, str(path))
    return True


def compare_images(parent: QWidget | None, archive: Archive, i: int, j: int) -> CompareWindow:
    """The image picker's Compare: images ``i`` (A) and ``j`` (B) of one archive."""
    ref = archive.source or str(archive.path)
    return open_compare(parent, SideSpec(ref, i), SideSpec(ref, j))


def with_image(spec: SideSpec, n: int) -> SideSpec:
    return dataclasses.replace(spec, image=n)
