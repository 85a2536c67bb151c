"""Opening images that are not files: File > Open from a Registry / Docker / Podman, the platform of a
multi-platform image and the credentials a registry asks for, as dialogs the controller calls."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from layerscope.core.sources.open import SourceOptions
from layerscope.core.sources.reference import SourceKind

from .. import settings
from ..controller import Controller
from .source_dialogs import EngineRow, ask_credentials, ask_engine_image, ask_platform, ask_registry_image


class SourceFlow(QObject):
    """The window's dialogs for engines and registries, wired to ``controller``."""

    def __init__(self, window: QWidget, controller: Controller) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        controller.pick_platform = lambda ref, platforms: ask_platform(window, ref, platforms)
        controller.ask_credentials = lambda registry, why: ask_credentials(window, registry, why)

    def open_registry(self) -> None:
        """Ask for a registry reference (and platform), then open it."""
        choice = ask_registry_image(self._window, settings.recent_references())
        if choice is not None:
            self._controller.open_reference(choice.reference, SourceOptions(platform=choice.platform))

    def open_engine(self, kind: str) -> None:
        """List the images of the Docker engine or Podman, then open the one chosen."""
        source = SourceKind(kind)
        ref = ask_engine_image(self._window, source, lambda: engine_rows(source))
        if ref is not None:
            self._controller.open_reference(ref)


def engine_rows(kind: SourceKind) -> list[EngineRow]:
    """The local images of ``kind``'s engine as the dialog lists them (runs in a job). Raises
    LayerScopeError (no socket, permission denied) with the sentence to show."""
    from layerscope.core.sources.engine.open import list_engine_images

    rows = []
    for im in list_engine_images(kind, SourceOptions()):
        created = im.created.timestamp() if im.created else 0.0
        rows.append(EngineRow(im.name if im.repository else "", im.id, im.size or 0, created))
    return rows
