"""Other projects' fixtures (shared/corpus/peer, described in SOURCES.md): images open with the layer
counts and compression their sources state; negatives give exit 2 and one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.errors import LayerScopeError
from layerscope.core.layers.index import load_image
from tests.conftest import PEER, need_shared

GCR = "google__go-containerregistry/pkg/v1"
DIVE = "wagoodman__dive/.data"
STEREO = "anchore__stereoscope/pkg/image/oci/testdata"
TRIVY = "aquasecurity__trivy/pkg/fanal/test/testdata"

# fixture -> list of (tags, [compression per layer]) per image, from SOURCES.md
POSITIVE = {
    f"{STEREO}/valid-oci.tar": [(None, ["gzip"])],
    f"{STEREO}/valid_oci_dir": [(None, ["gzip"])],
    f"{STEREO}/multiplatform_oci_dir": [(None, ["gzip"]), (None, ["gzip"])],
    f"{TRIVY}/alpine-311.tar.gz": [(["alpine:3.11"], ["none"])],
    f"{TRIVY}/test.oci": [([], ["gzip"])],
    f"{TRIVY}/test_image_tag.oci": [(["0.0.1"], ["gzip"])],
    "containers__image/docker/archive/fixtures/almostempty.tar": [(["emptyimage:latest"], ["none"])],
    f"{GCR}/mutate/testdata/overwritten_file.tar": [(None, ["none"] * 3)],
    f"{GCR}/mutate/testdata/source_image.tar": [(None, ["none"])],
    f"{GCR}/mutate/testdata/source_image_with_empty_layer_history.tar": [(None, ["none"])],
    f"{GCR}/mutate/testdata/whiteout_dir.tar": [(None, ["gzip"] * 4)],
    f"{GCR}/mutate/testdata/whiteout_image.tar": [(None, ["none"] * 3)],
    f"{GCR}/tarball/testdata/hello-world-v25.tar": [([], ["none"])],
    f"{GCR}/tarball/testdata/test_bundle.tar": [(None, ["none"]), (None, ["none"])],
    f"{GCR}/tarball/testdata/test_image_1.tar": [(["bazel/v1/tarball:test_image_1"], ["none"])],
    f"{GCR}/tarball/testdata/test_image_2.tar": [(["bazel/v1/tarball:test_image_2"], ["none"])],
    f"{GCR}/tarball/testdata/test_link.tar": [(None, ["none"]), (None, ["none", "none"])],
    f"{GCR}/tarball/testdata/test_load_manifest.tar": [(None, ["none"])],
    f"{GCR}/layout/testdata/test_index_one_image": [(None, ["gzip"])],
    f"{GCR}/layout/testdata/test_index": [(None, ["gzip"]), (None, ["gzip"])],
    f"{DIVE}/test-docker-image.tar": [(["dive-test:latest"], ["none"] * 14)],
    f"{DIVE}/test-kaniko-image.tar": [(None, ["gzip"] * 14)],
    f"{DIVE}/test-oci-estargz-image.tar": [([], ["gzip"])],
    f"{DIVE}/test-oci-gzip-image.tar": [([], ["gzip"])],
    f"{DIVE}/test-oci-uncompressed-image.tar": [([], ["none"])],
    f"{DIVE}/test-oci-zstd-image.tar": [([], ["zstd"])],
    "regclient__regclient/testdata/testrepo": None,  # many images; checked separately
}

# fixture -> a word the one-line message must contain
NEGATIVE = {
    f"{STEREO}/invalid_file": "index.json is empty",
    f"{STEREO}/no_manifests": "not an index",
    f"{STEREO}/valid_manifest": "empty",
    f"{TRIVY}/test_bad_index_json.oci": "not valid JSON",
    f"{TRIVY}/test_invalid_oci_image.oci": "not in the archive",
    f"{TRIVY}/test_no_valid_manifests.oci": "no manifests",
    f"{GCR}/tarball/testdata/no_manifest.tar": "without manifest.json",
    f"{GCR}/tarball/testdata/null_manifest.tar": "null",
    f"{DIVE}/test-uncompressed-image.tar": "single filesystem layer",
    "moby__moby/integration-cli/testdata/emptyLayer.tar": "without manifest.json",
    "regclient__regclient/testdata/layer.tar": "single filesystem layer",
    "regclient__regclient/testdata/layer-wh.tar": "single filesystem layer",
    "regclient__regclient/testdata/external": "artifacts",
    f"{GCR}/layout/testdata/test_index_media_type": "artifacts",
    "containers__storage/pkg/archive/testdata/broken.tar": "single filesystem layer",
    "containers__image/oci/layout/fixtures/two_images_manifest": "none of the 2",
    "containers__image/pkg/compression/fixtures/Hello.bz2": "bzip2",
    "containers__image/pkg/compression/fixtures/Hello.xz": "xz",
    "containers__image/pkg/compression/fixtures/Hello.uncompressed": "not a tar",
    "containers__image/pkg/compression/fixtures/Hello.gz": "not a tar",
    "containers__image/pkg/compression/fixtures/Hello.zst": "not a tar",
    "anchore__stereoscope/pkg/image/docker/testdata/empty-file": "empty",
    "anchore__stereoscope/pkg/image/docker/testdata/engine-config.json": "not a tar",
}


@pytest.mark.parametrize("rel", sorted(k for k, v in POSITIVE.items() if v is not None))
def test_peer_fixture_opens(rel):
    need_shared()
    exp = POSITIVE[rel]
    assert exp is not None
    with open_archive(PEER / rel) as a:
        assert len(a.images) == len(exp)
        for im, (tags, comps) in zip(a.images, exp, strict=True):
            if tags is not None:
                assert list(im.tags) == tags
            idx = load_image(a, im)
            assert [li.desc.compression for li in idx] == comps


def test_regclient_testrepo_lists_images_and_artifacts():
    need_shared()
    with open_archive(PEER / "regclient__regclient/testdata/testrepo") as a:
        assert len(a.images) >= 5
        assert a.attestations  # sbom/signature artifacts kept as metadata, not images
        plats = {str(im.platform) for im in a.images}
        assert {"linux/amd64", "linux/arm64"} <= plats
        v3 = a.select("v3", "linux/amd64")
        assert len(v3.layers) == 5
        for im in a.images:
            load_image(a, im)


def test_estargz_metadata_is_not_a_file():
    need_shared()
    with open_archive(PEER / f"{DIVE}/test-oci-estargz-image.tar") as a:
        (idx,) = load_image(a, a.images[0])
        assert a.images[0].layers[0].estargz
        assert [e.path for e in idx.entries] == ["README.md"]


@pytest.mark.parametrize("rel", sorted(NEGATIVE))
def test_peer_negative_gives_clean_error(rel):
    need_shared()
    with pytest.raises(LayerScopeError) as ei, open_archive(PEER / rel) as a:
        for im in a.images:
            load_image(a, im)
    msg = str(ei.value)
    assert NEGATIVE[rel] in msg
    assert "\n" not in msg
    assert str(PEER / rel) in msg


@pytest.mark.parametrize(
    "rel",
    [
        f"{TRIVY}/test_bad_index_json.oci",
        f"{DIVE}/test-uncompressed-image.tar",
        f"{GCR}/tarball/testdata/null_manifest.tar",
    ],
)
def test_peer_negative_cli_exit_2(rel):
    need_shared()
    r = subprocess.run(
        [sys.executable, "-m", "layerscope.core.cli", "inspect", str(PEER / rel)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("layerscope: ")
