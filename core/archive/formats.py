"""The archive layouts LayerScope reads, by the words the CLI prints."""

from __future__ import annotations

from enum import StrEnum


class ArchiveFormat(StrEnum):
    """How the images are laid out in the file or folder a user opened."""

    DOCKER_ARCHIVE = "docker-archive"
    DOCKER_OCI = "docker-oci"
    OCI_ARCHIVE = "oci-archive"
    OCI_LAYOUT = "oci-layout"
    DOCKER_DIR = "docker-dir"
    REGISTRY = "registry"

    @property
    def description(self) -> str:
        """The layout in a user's words, e.g. ``docker save (legacy layout)``."""
        return FORMAT_NAMES[self]


FORMAT_NAMES: dict[ArchiveFormat, str] = {
    ArchiveFormat.DOCKER_ARCHIVE: "docker save (legacy layout)",
    ArchiveFormat.DOCKER_OCI: "docker save (Docker 25+: OCI layout + manifest.json)",
    ArchiveFormat.OCI_ARCHIVE: "OCI image layout archive",
    ArchiveFormat.OCI_LAYOUT: "OCI image layout folder",
    ArchiveFormat.DOCKER_DIR: "unpacked docker save folder",
    ArchiveFormat.REGISTRY: "registry image (distribution API)",
}
