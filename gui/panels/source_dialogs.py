"""Asking where an image lives when it is not a file: a registry reference, an image of the local Docker
engine or Podman, a platform of a multi-platform image, and credentials when a registry asks."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.core.display import human_size, plural
from layerscope.core.errors import LayerScopeError
from layerscope.core.sources.reference import SourceKind, parse_reference

from ..credentials import Given
from ..worker import Job

DEFAULT_PLATFORM = "(this machine's)"
COMMON_PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x")


@dataclass(frozen=True, slots=True)
class RegistryChoice:
    """What the registry dialog was given: the reference (``docker://...``) and the platform, if any."""

    reference: str
    platform: str | None


class RegistryDialog(QDialog):
    """A reference box with completion from recent references, and a platform choice."""

    def __init__(self, parent: QWidget | None, recent: Sequence[str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open from a registry")
        self.reference = QComboBox()
        self.reference.setEditable(True)
        self.reference.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        shown = [r.removeprefix("docker://") for r in recent if r.startswith("docker://")]
        self.reference.addItems(shown)
        self.reference.setCurrentText(shown[0] if shown else "")
        line = self.reference.lineEdit()
        assert line is not None
        line.setPlaceholderText("alpine:3.20, ghcr.io/owner/app@sha256:..., localhost:5000/app:1")
        completer = QCompleter(shown, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.reference.setCompleter(completer)
        self.platform = QComboBox()
        self.platform.setEditable(True)
        self.platform.addItems([DEFAULT_PLATFORM, *COMMON_PLATFORMS])
        self.platform.setToolTip(
            "For a multi-platform image: which platform to open. Leave it as it is to be asked "
            "when the image has several."
        )
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Image:", self.reference)
        form.addRow("&Platform:", self.platform)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("An image in a registry, read directly (no Docker engine needed):"))
        lay.addLayout(form)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def choice(self) -> RegistryChoice:
        """The reference as typed (``docker://`` added when missing) and the platform (None: ask)."""
        text = self.reference.currentText().strip()
        ref = text if text.startswith("docker://") else f"docker://{text}"
        plat = self.platform.currentText().strip()
        return RegistryChoice(ref, None if plat in ("", DEFAULT_PLATFORM) else plat)

    def _accept(self) -> None:
        try:
            parse_reference(self.choice().reference)
        except LayerScopeError as exc:
            self.problem.setText(exc.message)
            self.problem.show()
            return
        self.accept()


def ask_registry_image(parent: QWidget, recent: Sequence[str]) -> RegistryChoice | None:
    dlg = RegistryDialog(parent, recent)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return dlg.choice()


class EngineImagesDialog(QDialog):
    """The images of the local Docker engine or Podman, filterable and sortable; listed off the GUI
    thread (``list_images`` runs in a job)."""

    COLUMNS = ("Image", "ID", "Size", "Created")

    def __init__(
        self, parent: QWidget | None, kind: SourceKind, list_images: Callable[[], list[EngineRow]]
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        engine = "Docker" if kind is SourceKind.DOCKER_DAEMON else "Podman"
        self.setWindowTitle(f"Open from {engine}")
        self.model = QStandardItemModel(0, len(self.COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole + 1)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or ID")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTreeView()
        self.table.setModel(self.proxy)
        self.table.setRootIsDecorated(False)
        self.table.setSortingEnabled(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(lambda _i: self._accept())
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.status = QLabel(f"Asking {engine} for its images...")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.refresh = QPushButton("&Refresh")
        self.refresh.clicked.connect(self._list)
        self.buttons.addButton(self.refresh, QDialogButtonBox.ButtonRole.ActionRole)
        lay = QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)
        self.resize(760, 420)
        self._list_images = list_images
        self._job: Job | None = None
        self._list()

    def _list(self) -> None:
        if self._job is not None:
            self._job.cancel()
        self.refresh.setEnabled(False)
        job = Job(lambda _job: self._list_images(), "list images")
        job.finished.connect(lambda rows, j=job: self._listed(j, rows))
        job.failed.connect(lambda msg, j=job: self._failed(j, msg))
        self._job = job
        job.start()

    def _listed(self, job: Job, rows: list[EngineRow]) -> None:
        if job is not self._job:
            return  # a refresh superseded it
        self._job = None
        self.refresh.setEnabled(True)
        self.model.removeRows(0, self.model.rowCount())
        for r in rows:
            self.model.appendRow(_engine_items(r))
        self.status.setText(plural(len(rows), "image") if rows else "No images.")
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        for col in (1, 2, 3):
            self.table.resizeColumnToContents(col)
        if rows:
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    def _failed(self, job: Job, message: str) -> None:
        if job is not self._job:
            return
        self._job = None
        self.refresh.setEnabled(True)
        self.status.setText(message)

    def chosen(self) -> str | None:
        """The reference of the selected image (``docker-daemon:NAME:TAG`` or by ID), or None."""
        idx = self.table.currentIndex()
        if not idx.isValid():
            return None
        item = self.model.itemFromIndex(self.proxy.mapToSource(idx.siblingAtColumn(0)))
        ref = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return f"{self.kind}:{ref}" if isinstance(ref, str) else None

    def _accept(self) -> None:
        if self.chosen() is not None:
            self.accept()

    def done(self, result: int) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None
        super().done(result)


@dataclass(frozen=True, slots=True)
class EngineRow:
    """One local image as the dialog lists it: ``name`` (``repo:tag``, or empty when untagged)."""

    name: str
    id: str
    size: int
    created: float  # seconds since the epoch; 0 when unknown


def _engine_items(r: EngineRow) -> list[QStandardItem]:
    short_id = r.id.removeprefix("sha256:")[:12]
    created = datetime.datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M") if r.created > 0 else ""
    texts = (r.name or f"(untagged) {short_id}", short_id, human_size(r.size), created)
    keys: tuple[object, ...] = (r.name or "~" + short_id, short_id, r.size, r.created)
    items = []
    for text, key in zip(texts, keys, strict=True):
        it = QStandardItem(text)
        it.setEditable(False)
        it.setData(key, Qt.ItemDataRole.UserRole + 1)
        it.setToolTip(f"{r.name or '(untagged)'}\n{r.id}\n{human_size(r.size)} ({r.size:,} bytes)")
        items.append(it)
    items[0].setData(r.name or r.id, Qt.ItemDataRole.UserRole)
    for it in items[2:]:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return items


def ask_engine_image(
    parent: QWidget, kind: SourceKind, list_images: Callable[[], list[EngineRow]]
) -> str | None:
    """Which local image to open, as a reference; None when the user cancels."""
    dlg = EngineImagesDialog(parent, kind, list_images)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return dlg.chosen()


def ask_platform(parent: QWidget, reference: str, platforms: Sequence[str]) -> str | None:
    """Which platform of a multi-platform image to open; None when the user cancels."""
    dlg = QDialog(parent)
    dlg.setWindowTitle("Choose a platform")
    box = QListWidget()
    box.addItems(list(platforms))
    box.setCurrentRow(0)
    box.itemDoubleClicked.connect(lambda _i: dlg.accept())
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dlg.accept)
    buttons.rejected.connect(dlg.reject)
    lay = QVBoxLayout(dlg)
    label = QLabel(f"{reference} is built for {plural(len(platforms), 'platform')}. Open which one?")
    label.setWordWrap(True)
    lay.addWidget(label)
    lay.addWidget(box, 1)
    lay.addWidget(buttons)
    if dlg.exec() != QDialog.DialogCode.Accepted or box.currentItem() is None:
        return None
    item = box.currentItem()
    return item.text() if item is not None else None


class CredentialsDialog(QDialog):
    """User and password for a registry that answered 401; "remember" writes them to disk."""

    def __init__(self, parent: QWidget | None, registry: str, why: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sign in to {registry}")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("&Remember on this computer (in ~/.config/layerscope/auth.json)")
        self.remember.setChecked(False)
        form = QFormLayout()
        form.addRow("&User:", self.user)
        form.addRow("&Password or token:", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        note = QLabel(why)
        note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addLayout(form)
        lay.addWidget(self.remember)
        lay.addWidget(buttons)

    def _accept(self) -> None:
        if self.user.text() and self.password.text():
            self.accept()

    def credentials(self) -> Given:
        return Given(f"{self.user.text()}:{self.password.text()}", self.remember.isChecked())


def ask_credentials(parent: QWidget, registry: str, why: str) -> Given | None:
    dlg = CredentialsDialog(parent, registry, why)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return dlg.credentials()
