"""Media types of OCI and Docker documents and layers, and what they say about a layer."""

from __future__ import annotations

from ..kinds import Compression

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
IMAGE_CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
LAYER_TYPE_PREFIXES = (
    "application/vnd.oci.image.layer.",
    "application/vnd.docker.image.rootfs.",
    "application/vnd.docker.image.layer.",
)
EXTRA_LAYER_TYPES = frozenset({"application/tar", "application/tar+gzip", "application/x-tar"})
ESTARGZ_ANNOTATIONS = ("containerd.io/snapshot/stargz/toc.digest", "io.containers.estargz.uncompressed-size")

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def is_layer_type(media_type: str) -> bool:
    """Whether ``media_type`` names a filesystem layer (of any compression)."""
    return media_type.startswith(LAYER_TYPE_PREFIXES) or media_type in EXTRA_LAYER_TYPES


def compression_of_type(media_type: str) -> Compression:
    """The compression a layer media type claims (used only when the blob is not there to sniff)."""
    if media_type.endswith("gzip"):
        return Compression.GZIP
    if media_type.endswith("zstd"):
        return Compression.ZSTD
    return Compression.NONE


def layer_type_of(compression: Compression) -> str:
    """The media type of a docker-save layer, which names none, from its sniffed compression."""
    if compression is Compression.GZIP:
        return DOCKER_LAYER_GZIP
    if compression is Compression.ZSTD:
        return OCI_LAYER_ZSTD
    return DOCKER_LAYER
