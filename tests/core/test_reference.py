"""The one reference syntax: skopeo's transports, Docker's short names, and the explicit file forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.core.errors import LayerScopeError
from layerscope.core.sources.open import open_source
from layerscope.core.sources.reference import SourceKind, parse_image_name, parse_reference

from ..conftest import REAL, need_shared

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "short"),
    [
        ("alpine", "docker.io", "library/alpine", "latest", None, "alpine:latest"),
        ("alpine:3.20", "docker.io", "library/alpine", "3.20", None, "alpine:3.20"),
        ("library/alpine:3", "docker.io", "library/alpine", "3", None, "alpine:3"),
        ("index.docker.io/me/app", "docker.io", "me/app", "latest", None, "me/app:latest"),
        ("ghcr.io/owner/app:v1.2", "ghcr.io", "owner/app", "v1.2", None, "ghcr.io/owner/app:v1.2"),
        ("localhost/app", "localhost", "app", "latest", None, "localhost/app:latest"),
        ("localhost:5000/a/b/c:1", "localhost:5000", "a/b/c", "1", None, "localhost:5000/a/b/c:1"),
        ("127.0.0.1:5000/x@" + DIGEST, "127.0.0.1:5000", "x", None, DIGEST, "127.0.0.1:5000/x@" + DIGEST),
        ("quay.io/a/b:t@" + DIGEST, "quay.io", "a/b", "t", DIGEST, "quay.io/a/b:t@" + DIGEST),
    ],
)
def test_image_names_resolve_as_docker_does(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None, short: str
) -> None:
    n = parse_image_name(text)
    assert (n.registry, n.repository, n.tag, n.digest) == (registry, repository, tag, digest)
    assert n.short == short
    assert n.reference == (digest or tag)
    assert n.api_host == ("registry-1.docker.io" if registry == "docker.io" else registry)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("docker://alpine", SourceKind.REGISTRY),
        ("docker-daemon:corpus/x:1", SourceKind.DOCKER_DAEMON),
        ("docker-daemon:sha256:" + "c" * 64, SourceKind.DOCKER_DAEMON),
        ("podman:localhost/corpus/bbase:1", SourceKind.PODMAN),
        ("docker-archive:/tmp/a.tar", SourceKind.DOCKER_ARCHIVE),
        ("oci-archive:/tmp/a.tar", SourceKind.OCI_ARCHIVE),
        ("oci:/tmp/layout", SourceKind.OCI_LAYOUT),
        ("/tmp/a.tar", SourceKind.FILE),
        ("relative/file.tar", SourceKind.FILE),
    ],
)
def test_transports(text: str, kind: SourceKind) -> None:
    r = parse_reference(text)
    assert r.kind is kind
    assert str(r) == text
    assert (r.path is not None) == kind.is_file
    if kind is SourceKind.DOCKER_DAEMON or kind is SourceKind.PODMAN:
        assert r.engine_name == text.split(":", 1)[1]


def test_engine_reference_by_id_has_no_name() -> None:
    r = parse_reference("docker-daemon:" + "0123456789ab")
    assert r.name is None and r.engine_name == "0123456789ab"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("docker://", "nothing after"),
        ("docker://Alpine", "not a repository name"),
        ("docker://alpine:bad tag", "not a valid tag"),
        ("docker://alpine@sha256:xyz", "not a digest"),
        ("docker://bad_host:5000/x", "not a registry host"),
        ("podman:", "nothing after"),
    ],
)
def test_malformed_references_are_one_line(text: str, why: str) -> None:
    with pytest.raises(LayerScopeError) as err:
        parse_reference(text)
    assert why in str(err.value)
    assert "\n" not in str(err.value)
    assert text in str(err.value)


def test_oci_layout_with_a_tag_suffix(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    r = parse_reference(f"oci:{layout}:bookworm")
    assert (r.path, r.image) == (str(layout), "bookworm")
    # a path that itself contains a colon stays whole
    odd = tmp_path / "a:b"
    odd.mkdir()
    assert parse_reference(f"oci:{odd}").path == str(odd)


def test_explicit_file_forms_must_be_what_they_say() -> None:
    need_shared()
    docker = REAL / "umoci-edge.docker.tar"
    oci = REAL / "umoci-edge.oci.tar"
    with open_source(f"docker-archive:{docker}") as a:
        assert a.source is None and a.label == str(docker)
    with open_source(f"oci-archive:{oci}") as a:
        assert len(a.images) == 1
    with pytest.raises(LayerScopeError, match="not a docker-archive"):
        open_source(f"docker-archive:{oci}")
    with pytest.raises(LayerScopeError, match="not an OCI layout folder"):
        open_source(f"oci:{oci}")
