"""Asking what to open: an archive file, an OCI layout folder, one image of a multi-image archive.

Sizes in these dialogs are in the window's one unit system (``core.display.human_size``, decimal kB
and MB as docker prints them), not Qt's KiB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileInfo, QIdentityProxyModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFileSystemModel,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.archive.records import Archive, ImageRecord
from layerscope.core.display import human_size, plural

from .. import settings

_SIZE_COLUMN = 1  # QFileSystemModel: name, size, type, date modified


class DecimalSizes(QIdentityProxyModel):
    """A file dialog's size column in decimal units (``4.1 kB``) instead of Qt's ``4.0 KiB``."""

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if index.column() == _SIZE_COLUMN and role == Qt.ItemDataRole.DisplayRole:
            src = self.sourceModel()
            if isinstance(src, QFileSystemModel):
                info: QFileInfo = src.fileInfo(self.mapToSource(index))
                if info.isFile():
                    return human_size(info.size())
        return super().data(index, role)


def archive_file_dialog(parent: QWidget | None) -> QFileDialog:
    """The dialog ``ask_archive_file`` shows; where it is Qt's own (no desktop dialog), its sizes
    follow ``human_size``."""
    recent = settings.recent_files()
    start = str(Path(recent[0]).parent) if recent else ""
    dlg = QFileDialog(
        parent,
        "Open an image archive",
        start,
        "Image archives (*.tar *.tar.gz *.tgz *.tar.zst *.oci);;All files (*)",
    )
    dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
    dlg.setProxyModel(DecimalSizes(dlg))
    return dlg


def ask_archive_file(parent: QWidget) -> Path | None:
    dlg = archive_file_dialog(parent)
    if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.selectedFiles():
        return None
    return Path(dlg.selectedFiles()[0])


def ask_layout_folder(parent: QWidget) -> Path | None:
    path = QFileDialog.getExistingDirectory(parent, "Open an OCI layout folder")
    return Path(path) if path else None


class ImagePicker(QDialog):
    """One row per image of an archive: every tag, the platform, the layer count and the stored size."""

    COLUMNS = ("#", "Tags", "Platform", "Layers", "Size")

    COMPARE = 2
    """``exec()``'s result when the user chose Compare (``compare_pair`` says which two)."""

    def __init__(self, parent: QWidget | None, archive: Archive, compare: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose an image")
        self.compare_pair: tuple[int, int] | None = None
        n = len(archive.images)
        self.label = label = QLabel(f"{archive.path.name} holds {plural(n, 'image')}. Open which one?")
        label.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setColumnCount(len(self.COLUMNS))
        self.table.setHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for i, im in enumerate(archive.images):
            self.table.addTopLevelItem(_image_item(i, im))
        header = self.table.header()
        header.setStretchLastSection(False)
        for col in range(len(self.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        first = self.table.topLevelItem(0)
        if first is not None:
            self.table.setCurrentItem(first)
        self.table.itemDoubleClicked.connect(lambda *_: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.compare_button: QPushButton | None = None
        hint = None
        if compare and n > 1:  # two of the images side by side (gui/compare/)
            self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
            self.compare_button = buttons.addButton("&Compare", QDialogButtonBox.ButtonRole.ActionRole)
            self.compare_button.setToolTip("Compare the two selected images (select two with Ctrl)")
            self.compare_button.clicked.connect(self._compare)
            self.table.itemSelectionChanged.connect(self._selection_changed)
            self._selection_changed()
            hint = QLabel("Or select two (Ctrl+click) and Compare them.")
        lay = QVBoxLayout(self)
        lay.addWidget(label)
        if hint is not None:
            lay.addWidget(hint)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        width = sum(self.table.sizeHintForColumn(c) for c in range(len(self.COLUMNS))) + 80
        self.resize(min(max(width, 560), 1100), 320)

    def chosen(self) -> int | None:
        """The selected image's index, None when nothing is selected."""
        it = self.table.currentItem()
        return int(it.data(0, Qt.ItemDataRole.UserRole)) if it is not None else None

    def selected(self) -> list[int]:
        """The indexes of the selected images, in archive order."""
        return sorted(int(it.data(0, Qt.ItemDataRole.UserRole)) for it in self.table.selectedItems())

    def _selection_changed(self) -> None:
        if self.compare_button is not None:
            self.compare_button.setEnabled(len(self.selected()) == 2)

    def _compare(self) -> None:
        picked = self.selected()
        if len(picked) == 2:
            self.compare_pair = (picked[0], picked[1])
            self.done(self.COMPARE)


def _image_item(i: int, im: ImageRecord) -> QTreeWidgetItem:
    tags = "\n".join(im.tags) if im.tags else f"(untagged) {im.name}"
    size = sum(d.size for d in im.layers)
    it = QTreeWidgetItem(
        [str(i), tags, str(im.platform or "(not given)"), str(len(im.layers)), human_size(size)]
    )
    it.setData(0, Qt.ItemDataRole.UserRole, i)
    tip = (
        f"{', '.join(im.tags) or '(untagged)'}\nplatform: {im.platform or '(not given)'}\n"
        f"{plural(len(im.layers), 'layer')}, {human_size(size)} stored ({size:,} bytes)\n"
        f"config: {im.config_digest}" + (f"\nmanifest: {im.manifest_digest}" if im.manifest_digest else "")
    )
    for col in range(5):
        it.setToolTip(col, tip)
    for col in (3, 4):
        it.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return it


def ask_image(parent: QWidget, archive: Archive, compare: bool = True) -> int | None:
    """Which image of ``archive`` to open; None when the user cancels, or chose two images to
    compare (``compare``: offer that; a compare window then shows them)."""
    dlg = ImagePicker(parent, archive, compare)
    result = dlg.exec()
    if result == ImagePicker.COMPARE and dlg.compare_pair is not None:
        from ..compare.flow import compare_images

        compare_images(parent, archive, *dlg.compare_pair)
        return None
    if result != QDialog.DialogCode.Accepted:
        return None
    return dlg.chosen()
