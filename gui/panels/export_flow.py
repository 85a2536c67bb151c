"""Exporting from the window: the dialog (what: a layer's files, a layer as stored, a file or folder,
the merged filesystem up to a layer; where: a folder, or a .tar / .tar.gz; options), the export spec
it makes, the progress dialog (percentage, bytes written of the total, Cancel) and the message that
says what was written. The export itself is a job of the controller.

Everything here belongs to one window: the suggested destination is next to THIS window's archive
(then where this window last exported), never another window's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.display import human_size
from layerscope.core.export.result import ExportResult
from layerscope.core.export.spec import ExportSpec, What

from ..controller import Controller
from ..worker import Job


class ExportDialog(QDialog):
    def __init__(
        self,
        what: str,
        suggested: str,
        as_stored_possible: bool,
        parent: Any = None,
        upto: list[tuple[str, int]] | None = None,
    ) -> None:
        """``upto``: for the merged filesystem, the layers it may go up to (label, layer), the first
        one chosen."""
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.what = QLabel(what)
        self.what.setWordWrap(True)
        self.upto = QComboBox()
        for label, layer in upto or []:
            self.upto.addItem(label, layer)
        self.upto.setVisible(bool(upto))
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
        if upto:
            form.addRow("Up to layer:", self.upto)
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

    def upto_layer(self) -> int | None:
        """The layer the merged filesystem goes up to (None: not a merged export)."""
        layer = self.upto.currentData() if self.upto.count() else None
        return int(layer) if layer is not None else None


def describe(what: str, layer: int | None, path: str, image_name: str, own_view: bool) -> tuple[str, str]:
    """What the dialog says it exports, and the suggested destination name."""
    name = image_name.replace("/", "_").replace(":", "_")
    if what == "layer":
        return f"layer #{layer}'s own files (whiteouts listed in WHITEOUTS.txt)", f"{name}-layer{layer}"
    if what == "stored":
        return f"layer #{layer} as stored", f"{name}-layer{layer}.tar"
    if what == "path":
        scope = f"layer #{layer}'s own files" if own_view else f"merged up to #{layer}"
        return f"/{path} ({scope})", f"{name}-{path.rsplit('/', 1)[-1] or 'root'}"
    return f"Merged filesystem up to layer #{layer}", f"{name}-rootfs"


def merged_action_text(layer: int | None) -> str:
    """The menu's Export Merged: it exports up to the selected layer, and says so."""
    return (
        "&Export Merged Filesystem…" if layer is None else f"&Export Merged Filesystem up to Layer #{layer}…"
    )


def export_spec(
    what: str,
    layer: int | None,
    path: str,
    dest: Path,
    own_view: bool,
    *,
    force: bool = False,
    keep_setuid: bool = False,
    compressed: bool = False,
) -> ExportSpec:
    """The export of ``what`` ("layer", "stored", "path" or "merged"); a path exports from the view shown."""
    kind = What.STORED if what == "stored" else What.MERGED if what == "merged" else What.LAYER
    if what == "path" and not own_view:
        kind = What.MERGED
    return ExportSpec(
        kind, dest, layer=layer, path=path, force=force, keep_setuid=keep_setuid, compressed=compressed
    )


def result_lines(res: ExportResult) -> tuple[str, str, list[str]]:
    """The finished message: its text, the short note under it, and the details (skips, warnings)."""
    details = [f"skipped {x}" for x in res.skipped] + [f"warning: {w}" for w in res.warnings]
    note = ""
    if res.deletions_file:
        note = f"The {res.deletions:,} path(s) this layer deletes are listed in /{res.deletions_file}."
    if details:
        note = (note + " " if note else "") + (
            f"{len(res.skipped)} item(s) skipped, {len(res.warnings)} warning(s)."
        )
    return res.summary(), note, details


def show_result(parent: QWidget, res: ExportResult) -> QMessageBox:
    """A message: what was written, the deletions listed, and what was skipped and why."""
    box = QMessageBox(parent)
    box.setWindowTitle("Export finished")
    text, note, details = result_lines(res)
    box.setText(text)
    if note:
        box.setInformativeText(note)
    if details:
        box.setDetailedText("\n".join(details))
    box.show()
    return box


class ExportProgress(QProgressDialog):
    """The running export: a percentage, the bytes written of the total, Cancel."""

    def __init__(self, dest: Path, parent: QWidget | None) -> None:
        super().__init__(f"Exporting to {dest.name}…", "Cancel", 0, 1000, parent)
        self.setWindowTitle("Exporting")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumDuration(0)
        self.setMinimumWidth(420)
        self._name = dest.name
        self.setValue(0)

    def show_progress(self, done: int, total: int) -> None:
        total = max(total, 1)
        done = min(done, total)
        self.setValue(int(1000 * done / total))
        pct = 100 * done // total  # as the bar rounds it
        self.setLabelText(
            f"Exporting to {self._name}\n{human_size(done)} of {human_size(total)} written ({pct} %)"
        )


class ExportFlow:
    """Ask where and how (the dialog), show the export's progress, hand the export to the controller."""

    def __init__(self, parent: QWidget, controller: Controller) -> None:
        self._parent = parent
        self._controller = controller
        self.last_folder: Path | None = None  # where THIS window last exported to
        self.progress: ExportProgress | None = None
        controller.export_started.connect(self._started)
        controller.export_progressed.connect(self._progressed)
        controller.export_ended.connect(self._ended)

    def _own_view(self) -> bool:
        view = self._controller.view
        return bool(view is not None and view.layer_view)

    def follow(self, action: QAction) -> None:
        """Keep the menu's Export Merged naming the layer it exports up to."""
        c = self._controller

        def retitle(*_args: object) -> None:
            action.setText(merged_action_text(c.current_layer))

        c.layer_changed.connect(retitle)
        c.image_loaded.connect(retitle)
        retitle()

    def default_folder(self) -> Path:
        """Where this window last exported; else next to this window's archive; else home."""
        if self.last_folder is not None:
            return self.last_folder
        path = self._controller.path
        if path is not None and path != self._controller.sample_path:  # the sample sits in a temp folder
            return path.absolute().parent
        return Path.home()

    def dialog(self, what: str, layer: int | None, path: str = "") -> ExportDialog | None:
        """The dialog for exporting ``what`` (not shown); None without an image."""
        s = self._controller.session
        if s is None:
            return None
        text, suggested = describe(what, layer, path, s.image.name, self._own_view())
        upto = None
        if what == "merged" and layer is not None:
            top = len(s.layers) - 1
            upto = [(f"#{layer} (the selected layer)", layer)]
            if layer != top:
                upto.append((f"#{top} (the top layer: the whole image)", top))
        dlg = ExportDialog(
            text, str(self.default_folder() / suggested), what in ("layer", "stored"), self._parent, upto=upto
        )
        if upto:
            dlg.upto.currentIndexChanged.connect(
                lambda _i: dlg.what.setText(describe("merged", dlg.upto_layer(), "", s.image.name, False)[0])
            )
        if what == "stored":
            dlg.as_stored.setChecked(True)
        return dlg

    def ask(self, what: str, layer: int | None, path: str = "") -> None:
        dlg = self.dialog(what, layer, path)
        if dlg is None or dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.run_dialog(dlg, what, layer, path)

    def run_dialog(self, dlg: ExportDialog, what: str, layer: int | None, path: str = "") -> Job:
        """Export as the (accepted) dialog says."""
        upto = dlg.upto_layer()
        return self.run(
            "stored" if dlg.as_stored.isChecked() else what,
            upto if upto is not None else layer,
            path,
            dlg.destination(),
            force=dlg.force.isChecked(),
            keep_setuid=dlg.keep_setuid.isChecked(),
            compressed=dlg.compressed.isChecked(),
        )

    # ---- the progress dialog ----------------------------------------------------------------------
    def _started(self, dest: Path) -> None:
        self._ended()
        self.last_folder = Path(dest).absolute().parent
        self.progress = ExportProgress(Path(dest), self._parent)
        self.progress.canceled.connect(self._controller.cancel_export)
        self.progress.show()

    def _progressed(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.show_progress(done, total)

    def _ended(self) -> None:
        p, self.progress = self.progress, None
        if p is not None:
            p.canceled.disconnect(self._controller.cancel_export)
            p.hide()
            p.deleteLater()

    def run(
        self,
        what: str,
        layer: int | None,
        path: str,
        dest: Path,
        *,
        force: bool = False,
        keep_setuid: bool = False,
        compressed: bool = False,
    ) -> Job:
        spec = export_spec(
            what,
            layer,
            path,
            dest,
            self._own_view(),
            force=force,
            keep_setuid=keep_setuid,
            compressed=compressed,
        )
        return self._controller.export(spec)
