"""The one reference syntax, as skopeo spells its transports.

``docker-daemon:NAME[:TAG|@DIGEST]``, ``podman:NAME[:TAG]``, ``docker://[REGISTRY/]REPO[:TAG|@DIGEST]``,
``docker-archive:PATH``, ``oci-archive:PATH``, ``oci:PATH``; anything else is a path to a file or a
folder. Short registry names resolve as Docker does: ``alpine`` is ``docker.io/library/alpine:latest``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum

from ..errors import LayerScopeError


class SourceKind(StrEnum):
    """Where an image is read from, by the transport word a user types."""

    FILE = "file"
    DOCKER_ARCHIVE = "docker-archive"
    OCI_ARCHIVE = "oci-archive"
    OCI_LAYOUT = "oci"
    DOCKER_DAEMON = "docker-daemon"
    PODMAN = "podman"
    REGISTRY = "docker"

    @property
    def is_file(self) -> bool:
        """True for the kinds that name a path on this machine."""
        return self in _FILE_KINDS

    @property
    def description(self) -> str:
        """The source in a user's words, for the title and the status bar."""
        return _DESCRIPTIONS[self]


_FILE_KINDS = frozenset(
    {SourceKind.FILE, SourceKind.DOCKER_ARCHIVE, SourceKind.OCI_ARCHIVE, SourceKind.OCI_LAYOUT}
)
_DESCRIPTIONS = {
    SourceKind.FILE: "file",
    SourceKind.DOCKER_ARCHIVE: "docker archive",
    SourceKind.OCI_ARCHIVE: "OCI archive",
    SourceKind.OCI_LAYOUT: "OCI layout",
    SourceKind.DOCKER_DAEMON: "Docker engine",
    SourceKind.PODMAN: "Podman",
    SourceKind.REGISTRY: "registry",
}

REFERENCE_HELP = (
    "a file or folder (docker save, podman save, oci-archive, .tar.gz, OCI layout), or "
    "docker://[REGISTRY/]REPO[:TAG|@DIGEST], docker-daemon:NAME[:TAG], podman:NAME[:TAG], "
    "docker-archive:PATH, oci-archive:PATH, oci:PATH[:TAG]"
)
"""The reference syntax in one sentence, for --help and the GUI."""

DOCKER_HUB = "docker.io"
"""The registry a short name means (Docker's default)."""
DOCKER_HUB_API = "registry-1.docker.io"
"""Where docker.io's distribution API answers."""

_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)(?::[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class ImageName:
    """A named image: ``registry/repository`` with a tag or a digest (``docker.io/library/alpine:3.20``)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What the registry is asked for: the digest when there is one, else the tag (``latest``)."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        """The host serving the distribution API (``registry-1.docker.io`` for ``docker.io``)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        s = f"{self.registry}/{self.repository}"
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    @property
    def short(self) -> str:
        """The name as Docker prints it: ``alpine:3.20`` for ``docker.io/library/alpine:3.20``."""
        repo = self.repository
        repo = repo.removeprefix("library/") if self.registry == DOCKER_HUB else f"{self.registry}/{repo}"
        return repo + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True, slots=True)
class Reference:
    """What a user asked to open: the transport, and a path (files) or an image name (engines, registries).

    ``text`` is what they typed, kept for the title, the recent list and error messages.
    """

    kind: SourceKind
    text: str
    path: str | None = None
    name: ImageName | None = None
    engine_name: str | None = None
    """For engines: the name as the engine is asked for it (``alpine:3.20``, ``sha256:...``)."""
    image: str | None = None
    """For the explicit file forms: the image inside, as skopeo spells it (``oci:PATH:TAG``)."""

    def __str__(self) -> str:
        return self.text


def parse_reference(text: str) -> Reference:
    """The reference ``text`` means. Raises LayerScopeError naming it when it is malformed."""
    for prefix, kind in _PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            if not rest:
                raise LayerScopeError(f"nothing after {prefix!r}: give {_SYNTAX[kind]}", text)
            if kind.is_file:
                path, image = _path_and_image(rest)
                return Reference(kind, text, path=path, image=image)
            if kind is SourceKind.REGISTRY:
                return Reference(kind, text, name=parse_image_name(rest.removeprefix("//"), text))
            return Reference(kind, text, name=_engine_image_name(rest, text), engine_name=rest)
    return Reference(SourceKind.FILE, text, path=text)


_PREFIXES = (
    ("docker://", SourceKind.REGISTRY),
    ("docker-daemon:", SourceKind.DOCKER_DAEMON),
    ("podman:", SourceKind.PODMAN),
    ("docker-archive:", SourceKind.DOCKER_ARCHIVE),
    ("oci-archive:", SourceKind.OCI_ARCHIVE),
    ("oci:", SourceKind.OCI_LAYOUT),
)
_SYNTAX = {
    SourceKind.REGISTRY: "docker://[REGISTRY/]REPO[:TAG|@DIGEST]",
    SourceKind.DOCKER_DAEMON: "docker-daemon:NAME[:TAG|@DIGEST]",
    SourceKind.PODMAN: "podman:NAME[:TAG]",
    SourceKind.DOCKER_ARCHIVE: "docker-archive:PATH",
    SourceKind.OCI_ARCHIVE: "oci-archive:PATH",
    SourceKind.OCI_LAYOUT: "oci:PATH",
}


def _path_and_image(rest: str) -> tuple[str, str | None]:
    """``PATH[:IMAGE]``: the suffix after the last colon names an image only when the whole text is not
    itself an existing path and the part before it is (skopeo's ``oci:PATH:TAG``)."""
    if os.path.exists(rest) or ":" not in rest:
        return rest, None
    path, image = rest.rsplit(":", 1)
    if image and "/" not in image and os.path.exists(path):
        return path, image
    return rest, None


def _engine_image_name(rest: str, text: str) -> ImageName | None:
    """The image name an engine reference spells; None for an image id (``sha256:...``, 12+ hex)."""
    if _DIGEST.match(rest) or re.fullmatch(r"[0-9a-f]{12,64}", rest):
        return None
    return parse_image_name(rest, text)


def parse_image_name(s: str, text: str | None = None) -> ImageName:
    """``[REGISTRY/]REPO[:TAG][@DIGEST]`` with Docker's defaults. Raises LayerScopeError when malformed."""
    where = text if text is not None else s
    digest = None
    if "@" in s:
        s, digest = s.split("@", 1)
        if not _DIGEST.match(digest):
            raise LayerScopeError(f"{digest!r} is not a digest (sha256:<64 hex>)", where)
    tag = None
    last = s.rsplit("/", 1)[-1]
    if ":" in last:
        s, tag = s.rsplit(":", 1)
        if not _TAG.match(tag):
            raise LayerScopeError(f"{tag!r} is not a valid tag", where)
    parts = s.split("/")
    if len(parts) > 1 and (("." in parts[0] or ":" in parts[0]) or parts[0] == "localhost"):
        registry, path = parts[0], parts[1:]
        if not _HOST.match(registry):
            raise LayerScopeError(f"{registry!r} is not a registry host", where)
    else:
        registry, path = DOCKER_HUB, parts
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if not path or not all(_COMPONENT.match(c) for c in path):
        raise LayerScopeError(
            f"{'/'.join(path) or s!r} is not a repository name (lowercase letters, digits, . _ -)", where
        )
    if registry == DOCKER_HUB and len(path) == 1:
        path = ["library", *path]
    if tag is None and digest is None:
        tag = "latest"
    return ImageName(registry, "/".join(path), tag, digest)
