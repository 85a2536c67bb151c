"""The seed archives every case starts from: small real archives of the shared corpus, and archives
from the test-image builder with every entry kind the corpus lacks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PEER, REAL
from tests.fuzz.members import Member, read_dir, read_tar

GCR = "google__go-containerregistry/pkg/v1"
DIVE = "wagoodman__dive/.data"

# Small archives, so cases are fast; each brings something: layouts, compressions, links, whiteouts.
SEED_FILES: list[tuple[str, str]] = [
    ("real", "umoci-insert.oci.tar"),
    ("real", "umoci-insert.docker.tar"),
    ("real", "umoci-edge.oci.tar"),
    ("real", "umoci-edge.zstd.oci.tar"),
    ("peer", f"{GCR}/tarball/testdata/test_image_1.tar"),
    ("peer", f"{GCR}/tarball/testdata/test_link.tar"),
    ("peer", f"{GCR}/tarball/testdata/hello-world-v25.tar"),
    ("peer", f"{GCR}/mutate/testdata/whiteout_dir.tar"),
    ("peer", f"{GCR}/mutate/testdata/overwritten_file.tar"),
    ("peer", f"{DIVE}/test-oci-zstd-image.tar"),
    ("peer", f"{DIVE}/test-oci-estargz-image.tar"),
    ("peer", f"{DIVE}/test-oci-gzip-image.tar"),
    ("peer", "anchore__stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir"),
    ("peer", f"{GCR}/layout/testdata/test_index_one_image"),
]


@dataclass
class Seed:
    """A seed archive, parsed into members; ``is_dir`` when it is an unpacked (OCI layout) folder."""

    name: str
    members: list[Member]
    is_dir: bool = False


def builder_seeds(dest: Path) -> list[tuple[str, Path]]:
    """Archives from the test-image builder with every entry kind the corpus lacks."""
    from tests.imagebuilder import Device, Dir, Fifo, File, Hardlink, Image, Layer, Opaque, Symlink, Whiteout
    from tests.imagebuilder import build as build_image

    long = "d/" + "n" * 120 + "/é-file.txt"
    img = Image(
        [
            Layer(
                [
                    Dir("etc"),
                    File("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                    File("etc/same", b"same"),
                    Dir("d"),
                    File(long, b"long", xattrs={"user.k": b"v\x00\xff"}),
                    Symlink("etc/link", "/etc/passwd"),
                    Symlink("up", "../../.."),
                    Hardlink("etc/hard", "etc/passwd"),
                    Device("dev-null", "char", 1, 3),
                    Fifo("fifo"),
                    Dir("opq"),
                    File("opq/old", b"old"),
                ],
                created_by="ADD rootfs",
            ),
            Layer(
                [
                    Whiteout("etc/passwd"),
                    Opaque("opq"),
                    File("opq/new", b"new"),
                    File("etc/same", b"same"),
                    File("d", b"a file over a folder"),
                    Hardlink("h2", "etc/hard"),
                ],
                created_by="RUN change",
            ),
        ],
        tags=["fuzz/rich:1"],
    )
    out: list[tuple[str, Path]] = []
    for layout, comp, outer in (
        ("docker25", "gzip", "none"),
        ("podman", "zstd", "none"),
        ("oci-archive", "none", "none"),
        ("docker-legacy", "none", "none"),
    ):
        p = build_image(img, dest / f"rich-{layout}-{comp}.tar", layout, comp, outer)
        out.append((f"builder:{layout}-{comp}", p))
    return out


def load_seeds(work: Path, real: Path = REAL, peer: Path = PEER) -> list[Seed]:
    """Every seed, parsed into members (the corpus ones are skipped when it is absent)."""
    seeds = []
    work.mkdir(parents=True, exist_ok=True)
    for name, p in builder_seeds(work):
        seeds.append(Seed(name, read_tar(p)))
    for where, rel in SEED_FILES:
        p = (real if where == "real" else peer) / rel
        if p.is_dir():
            seeds.append(Seed(rel, read_dir(p), is_dir=True))
        elif p.is_file():
            seeds.append(Seed(rel, read_tar(p)))
    return seeds
