"""The empty window: where to drop an image archive, what it accepts, the sample and Open buttons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..models import TREE_DRAG_FORMAT

ACCEPTS = (
    "docker save / podman save archives (.tar), skopeo oci-archive, OCI layout folders, "
    "and any of these gzip- or zstd-compressed"
)


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files among dragged URLs (none for rows dragged from the tree: those are not archives)."""
    if not mime.hasUrls() or mime.hasFormat(TREE_DRAG_FORMAT):
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


class DropZone(QWidget):
    open_requested = Signal()
    sample_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        dl = QVBoxLayout(self)
        dl.addStretch(1)
        self.drop_label = QLabel(f"<h2>Drop an image archive here</h2><p>LayerScope opens {ACCEPTS}.</p>")
        self.drop_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_label.setWordWrap(True)
        dl.addWidget(self.drop_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.sample_button = QPushButton("Open the sample image")
        self.sample_button.clicked.connect(self.sample_requested)
        row.addWidget(self.sample_button)
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self.open_requested)
        row.addWidget(open_button)
        row.addStretch(1)
        dl.addLayout(row)
        dl.addStretch(2)
