"""The export dialog: what (a layer's files, a layer as stored, a file or folder, the merged filesystem),
where (a folder, or a .tar / .tar.gz), and options. The export itself runs as a Job in the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)


class ExportDialog(QDialog):
    def __init__(self, what: str, suggested: str, as_stored_possible: bool, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.what = QLabel(what)
        self.what.setWordWrap(True)
        self.to_folder = QRadioButton("to a folder")
        self.to_tar = QRadioButton("to a tar file (.tar, or .tar.gz for gzip)")
        self.to_folder.setChecked(True)
        self.dest = QLineEdit(suggested)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.as_stored = QCheckBox("the layer as stored (its tar, byte for byte)")
        self.as_stored.setVisible(as_stored_possible)
        self.compressed = QCheckBox("keep the blob's compression")
        self.compressed.setVisible(as_stored_possible)
        self.keep_setuid = QCheckBox("keep setuid/setgid bits (folder)")
        self.force = QCheckBox("replace the destination if it exists")
        self.as_stored.toggled.connect(self._stored_toggled)
        self._stored_toggled(False)
        row = QHBoxLayout()
        row.addWidget(self.dest, 1)
        row.addWidget(browse)
        dest_w = QWidget()
        dest_w.setLayout(row)
        form = QFormLayout()
        form.addRow("Export:", self.what)
        form.addRow("", self.to_folder)
        form.addRow("", self.to_tar)
        form.addRow("Destination:", dest_w)
        for w in (self.as_stored, self.compressed, self.keep_setuid, self.force):
            form.addRow("", w)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.to_tar.toggled.connect(self._kind_toggled)

    def _kind_toggled(self, tar: bool) -> None:
        text = self.dest.text()
        if tar and not text.endswith((".tar", ".tar.gz", ".tgz")):
            self.dest.setText(text + ".tar")
        elif not tar and text.endswith(".tar"):
            self.dest.setText(text[: -len(".tar")])

    def _stored_toggled(self, on: bool) -> None:
        self.compressed.setEnabled(on)
        self.keep_setuid.setEnabled(not on)
        self.to_folder.setEnabled(not on)
        if on:
            self.to_tar.setChecked(True)

    def _browse(self) -> None:
        if self.to_tar.isChecked():
            path, _f = QFileDialog.getSaveFileName(
                self, "Export to a tar file", self.dest.text(), "Tar files (*.tar *.tar.gz)"
            )
        else:
            path = QFileDialog.getExistingDirectory(self, "Export into a new folder inside", str(Path.home()))
            if path:
                path = str(Path(path) / Path(self.dest.text()).name)
        if path:
            self.dest.setText(path)

    def destination(self) -> Path:
        return Path(self.dest.text()).expanduser()
