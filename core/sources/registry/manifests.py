"""Manifests from a registry: asked for with the Accept headers of Docker v2 and OCI, verified against
their digest, schema 1 refused; and the platform chosen from an index (a manifest list)."""

from __future__ import annotations

import hashlib
import json
import platform as host_platform
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from ...archive.jsondoc import too_deep
from ...archive.mediatypes import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
)
from ...archive.records import Platform
from ...digest import split_digest
from ...limits import MAX_JSON_DEPTH
from ..reference import ImageName
from .client import RegistryClient

MAX_MANIFEST = 4 << 20
"""Bytes of a manifest or index (the distribution spec lets registries refuse larger ones)."""
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
"""The digest algorithms verified (the OCI spec registers these two)."""
_MACHINES = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}


@dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest or index as fetched: its digest, media type, bytes and parsed document."""

    digest: str
    media_type: str
    raw: bytes
    doc: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """``algorithm:hex`` of ``data``."""
    return f"{algorithm}:{HASHES[algorithm](data).hexdigest()}"


def repo_scope(name: ImageName) -> str:
    """The token scope for pulling ``name``'s repository."""
    return f"repository:{name.repository}:pull"


def fetch_manifest(client: RegistryClient, name: ImageName, reference: str, what: str) -> Manifest:
    """The manifest or index ``reference`` (a tag or a digest) names. Raises RegistryError,
    AuthRequired (a digest mismatch, schema 1 and anything not JSON are RegistryErrors too)."""
    wanted = split_digest(reference) if ":" in reference else None
    if wanted is not None and wanted[0] not in HASHES:
        raise client.fail(f"{what}: digest algorithm {wanted[0]!r} is not supported (sha256, sha512)")
    resp = client.request(
        "GET",
        f"/v2/{name.repository}/manifests/{reference}",
        what,
        scope=repo_scope(name),
        headers={"Accept": ACCEPT},
    )
    with closing(resp):
        raw = client.read_document(resp, MAX_MANIFEST, what)
        header_type = resp.headers.get("content-type", "").split(";", 1)[0].strip()
        header_digest = resp.headers.get("docker-content-digest", "").strip()
    algorithm = wanted[0] if wanted is not None else "sha256"
    digest = digest_of(raw, algorithm)
    if wanted is not None and digest != reference:
        raise client.fail(
            f"{what}: the registry sent bytes whose digest is {digest[:19]}…, not {reference[:19]}…"
        )
    header = split_digest(header_digest) if header_digest else None
    lies = header is not None and header[0] in HASHES and digest_of(raw, header[0]) != header_digest
    if wanted is None and lies:
        raise client.fail(
            f"{what}: the bytes do not match the digest the registry gives ({header_digest[:19]}…)"
        )
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise client.fail(f"{what} is not valid JSON") from exc
    if not isinstance(doc, dict) or too_deep(doc, MAX_JSON_DEPTH):
        raise client.fail(f"{what} is not a JSON object of a manifest")
    media_type = str(doc.get("mediaType") or header_type)
    if doc.get("schemaVersion") == 1 or media_type in SCHEMA1_TYPES:
        raise client.fail(
            f"{what} is a Docker schema 1 manifest (before Docker 1.10), which LayerScope does not read; "
            "push the image again with a current tool"
        )
    if media_type not in INDEX_TYPES and media_type not in MANIFEST_TYPES:
        if "manifests" in doc and "layers" not in doc:
            media_type = OCI_INDEX
        elif "layers" in doc:
            media_type = OCI_MANIFEST
        else:
            raise client.fail(f"{what} has media type {media_type[:100]!r}, not an image manifest or index")
    return Manifest(digest, media_type, raw, doc)


def host_default() -> Platform:
    """The platform of this machine, as an index names it (``linux/amd64``, ``linux/arm/v7``)."""
    arch, variant = _MACHINES.get(host_platform.machine().lower(), (host_platform.machine().lower(), None))
    return Platform("linux", arch, variant)


def _platform(d: dict[str, Any]) -> Platform | None:
    p = d.get("platform")
    if not isinstance(p, dict):
        return None
    os_, arch, variant = p.get("os"), p.get("architecture"), p.get("variant")
    if not isinstance(os_, str) or not isinstance(arch, str) or not os_ or not arch:
        return None
    return Platform(os_, arch, variant if isinstance(variant, str) and variant else None)


def is_attestation(d: dict[str, Any]) -> bool:
    """Whether an index entry is an attestation (BuildKit's ``unknown/unknown`` manifests)."""
    ann = d.get("annotations")
    if isinstance(ann, dict) and ann.get("vnd.docker.reference.type") == "attestation-manifest":
        return True
    p = _platform(d)
    return p is not None and p.os == "unknown" and p.architecture == "unknown"


def image_entries(index: dict[str, Any]) -> list[tuple[Platform | None, dict[str, Any]]]:
    """The entries of an index that are images (not attestations), with their platforms."""
    mans = index.get("manifests")
    if not isinstance(mans, list):
        return []
    out = []
    for d in mans:
        if isinstance(d, dict) and isinstance(d.get("digest"), str) and not is_attestation(d):
            out.append((_platform(d), d))
    return out


def platforms_of(index: dict[str, Any]) -> list[str]:
    """The platforms an index offers, in its order, once each."""
    seen: list[str] = []
    for p, _d in image_entries(index):
        if p is not None and str(p) not in seen:
            seen.append(str(p))
    return seen


def choose(client: RegistryClient, index: dict[str, Any], want: str | None, what: str) -> dict[str, Any]:
    """The index entry for platform ``want`` (``OS/ARCH[/VARIANT]``), else for this machine's platform.

    Without ``want``, an index of one image gives that image whatever its platform. Raises
    RegistryError when nothing matches, naming what the index has."""
    entries = image_entries(index)
    if not entries:
        raise client.fail(f"{what} lists no images")
    have = ", ".join(platforms_of(index)) or "no platforms named"
    if want is not None:
        try:
            target = Platform.parse(want)
        except ValueError as exc:
            raise client.fail(str(exc)) from exc
    else:
        target = host_default()
    for p, d in entries:
        if p is not None and p.matches(target):
            return d
    if want is None and target.variant is not None:  # an arm/v7 machine also runs arm without a variant
        for p, d in entries:
            if p is not None and p.matches(Platform(target.os, target.architecture)):
                return d
    if want is None and len(entries) == 1:
        return entries[0][1]
    asked = want if want is not None else f"{target} (this machine's; choose with --platform)"
    raise client.fail(f"{what} has no image for platform {asked} (have: {have})")
