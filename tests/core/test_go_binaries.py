"""Go binaries' build info, against what the Go toolchain itself prints (``go version -m``) for real
binaries built by others (Debian's umoci and skopeo, the dive release), in an image umoci made
layer by layer; broken build info is a warning, never a failure of the scan."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.cli import main
from layerscope.core.packages import Ecosystem, PackageHistory, package_history
from layerscope.core.packages.go_binary import (
    MAGIC,
    BuildInfoError,
    GoCatalog,
    find_build_info,
    is_go_binary,
    parse_build_info,
)
from layerscope.core.session import load
from tests.conftest import need_tool
from tests.core import package_images as pi

# ---- the toolchain's own report --------------------------------------------------------------------


def go_version_m(binary: Path) -> dict[str, object]:
    """``go version -m``: the Go version, the main package, the main module and the dependencies."""
    out = pi.run([need_tool("go"), "version", "-m", str(binary)])
    lines = out.splitlines()
    report: dict[str, object] = {"go": lines[0].rsplit(": ", 1)[1], "path": "", "mod": None, "deps": []}
    deps: list[tuple[str, str]] = []
    for line in lines[1:]:
        kind, *fields = line.strip("\t").split("\t")
        if kind == "path":
            report["path"] = fields[0]
        elif kind == "mod":
            report["mod"] = (fields[0], fields[1])
        elif kind == "dep":
            deps.append((fields[0], fields[1]))
        elif kind == "=>":  # the line before is replaced: go lists the replacement's version
            path, _old = deps[-1] if deps else report["mod"]  # type: ignore[misc]
            replaced = (path, fields[1] if len(fields) > 1 and fields[1] else f"=> {fields[0]}")
            if deps:
                deps[-1] = replaced
            else:
                report["mod"] = replaced
    report["deps"] = deps
    return report


def real_go_binaries() -> list[Path]:
    """Go binaries built by others that the test setup installs."""
    found = [Path(need_tool(name)) for name in ("umoci", "skopeo", "dive")]
    return [Path(p).resolve() for p in found]


def chunks_of(data: bytes, n: int = 65536) -> Iterator[bytes]:
    return iter([data[k : k + n] for k in range(0, len(data), n)])


def test_build_info_matches_go_version_m_for_real_binaries():
    for binary in real_go_binaries():
        data = binary.read_bytes()
        assert is_go_binary(data[:16384]), binary
        info = find_build_info(chunks_of(data))
        assert info is not None, binary
        want = go_version_m(binary)
        assert info.go_version == want["go"], binary
        assert info.path == want["path"], binary
        mod = (info.main.path, info.main.effective_version) if info.main is not None else None
        assert mod == want["mod"], binary
        assert [(d.path, d.effective_version) for d in info.deps] == want["deps"], binary
    # at least one of them lists its modules (dive's release is built in module mode)
    assert any(go_version_m(b)["deps"] for b in real_go_binaries())


def test_a_non_go_executable_is_not_taken_for_one():
    ls = Path(need_tool("ls")).resolve()
    assert not is_go_binary(ls.read_bytes()[:16384])
    assert find_build_info(chunks_of(ls.read_bytes())) is None


def test_broken_build_info_says_why():
    dive = Path(need_tool("dive")).resolve().read_bytes()
    at = dive.find(MAGIC)
    block = dive[at : at + 4096]
    with pytest.raises(BuildInfoError, match="cut short"):
        parse_build_info(block[:40])
    with pytest.raises(BuildInfoError, match=r"before Go 1\.18"):
        parse_build_info(block[:15] + bytes([block[15] & ~0x2]) + block[16:])
    with pytest.raises(BuildInfoError, match="pointer size"):
        parse_build_info(block[:14] + b"\x03" + block[15:])
    huge = block[:32] + b"\xff\xff\xff\xff\x0f"  # a Go version of 4 GiB
    with pytest.raises(BuildInfoError, match="claims"):
        parse_build_info(huge)
    # a magic at the very end of the bytes: cut short, not a hang
    with pytest.raises(BuildInfoError):
        find_build_info(iter([b"x" * 96 + MAGIC]))
    # lengths past every limit, streamed: said at once (not the rest of the file buffered first)
    taken: list[int] = []

    def garbage() -> Iterator[bytes]:
        yield b"\0" * 64 + block[:32] + b"\x80" * 9 + b"\x7f"
        for n in range(1000):
            taken.append(n)
            yield b"\0" * 65536

    with pytest.raises(BuildInfoError, match="claims"):
        find_build_info(garbage())
    assert len(taken) <= 1


def test_only_an_aligned_magic_is_the_block():
    # the Go linker's own read-only data holds a copy of the magic at an odd offset, before the block
    dive = Path(need_tool("dive")).resolve().read_bytes()
    at = dive.find(MAGIC)
    decoy = b"\0" * 5 + MAGIC + b"\x5f\x5f" + b"\0" * 11  # unaligned, a pointer size of 95
    data = decoy + b"\0" * (-len(decoy) % 16) + dive[at : at + 65536]
    info = find_build_info(chunks_of(data, 7))  # chunks cut anywhere, the magic across two of them
    assert info is not None and info.main is not None and info.main.path == "github.com/wagoodman/dive"
    # a toolchain built from source names itself "devel go1.24-…": still a version
    version = b"devel go1.24-abc123"
    block = dive[at : at + 32] + bytes([len(version)]) + version + b"\x00"
    assert parse_build_info(block).go_version == "devel go1.24-abc123"


def test_the_catalog_wants_the_places_binaries_live():
    c = GoCatalog()
    for p in (
        "hello",
        "usr/local/bin/tool",
        "usr/bin/x",
        "opt/x/bin/y",
        "go/bin/z",
        "app/server",
        "ko-app/s",
    ):
        assert c.wants(p), p
    for p in ("usr/lib/x.so", "etc/bin.conf", "usr/share/doc/bin", "app/static/x.js", "binary/x"):
        assert not c.wants(p), p


# ---- in an image, layer by layer ---------------------------------------------------------------------


def _put(root: Path, src: Path, dest: str) -> None:
    target = root / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, target)
    target.chmod(0o755)


@pytest.fixture(scope="module")
def go_image() -> Iterator[tuple[pi.Built, PackageHistory]]:
    umoci, skopeo, dive = real_go_binaries()
    ls = Path(need_tool("ls")).resolve()
    with tempfile.TemporaryDirectory(prefix="ls-go-") as tmp:
        w = Path(tmp)
        built = pi.build_image(
            w,
            "gobins",
            [
                (
                    "COPY umoci dive ls",
                    lambda r: (
                        _put(r, umoci, "usr/local/bin/tool"),
                        _put(r, dive, "app/dive"),
                        _put(r, ls, "usr/bin/ls"),
                    ),
                ),
                ("COPY skopeo /usr/local/bin/tool", lambda r: _put(r, skopeo, "usr/local/bin/tool")),
                ("RUN rm /app/dive", lambda r: (r / "app/dive").unlink()),
            ],
        )
        with open_archive(built.archive) as a:
            yield built, package_history(load(a, a.images[0]))


def _go_at(root: Path) -> dict[tuple[str, str], str]:
    """(binary, module) -> version, as ``go version -m`` reports the binaries of a rootfs."""
    out: dict[tuple[str, str], str] = {}
    for rel in ("usr/local/bin/tool", "app/dive"):
        b = root / rel
        if not b.exists():
            continue
        r = go_version_m(b)
        out[(rel, "stdlib")] = str(r["go"])
        mod = r["mod"]
        if mod is not None:
            out[(rel, mod[0])] = mod[1]  # type: ignore[index]
        else:
            out[(rel, str(r["path"]))] = "(devel)"
        for path, version in r["deps"]:  # type: ignore[attr-defined]
            out[(rel, path)] = version
    return out


def test_every_layer_matches_go_version_m(go_image):
    built, history = go_image
    for i, root in enumerate(built.roots):
        with open_archive(built.archive) as a:
            h = package_history(load(a, a.images[0]), upto=i)
        got = {(p.source, p.name): p.version for p in h.packages if p.ecosystem is Ecosystem.GO}
        assert got == _go_at(root), f"layer {i}"
    assert not [w for w in history.warnings if "Go" in w], history.warnings


def test_layers_say_what_they_did_to_go_modules(go_image):
    _built, history = go_image
    first, second, third = history.layers
    assert {p.name for p in first.added if p.ecosystem is Ecosystem.GO} >= {
        "github.com/opencontainers/umoci/cmd/umoci",
        "github.com/wagoodman/dive",
        "github.com/awesome-gocui/gocui",
    }
    # the same path, another program: its modules go, the new one's come
    assert "github.com/opencontainers/umoci/cmd/umoci" in {p.name for p in second.removed}
    assert "github.com/containers/skopeo/cmd/skopeo" in {p.name for p in second.added}
    assert "github.com/wagoodman/dive" in {p.name for p in third.removed}
    tool = next(p for p in history.packages if p.name == "github.com/containers/skopeo/cmd/skopeo")
    assert tool.layer == 1 and tool.files == ("usr/local/bin/tool",) and tool.size and tool.size > 1 << 20


def test_packages_json_lists_go_modules(go_image):
    built, _history = go_image
    out = StringIO()
    with redirect_stdout(out):
        assert main(["packages", str(built.archive), "--json", "--layer", "0"]) == 0
    go = {p["name"]: p for p in json.loads(out.getvalue())["packages"] if p["ecosystem"] == "go"}
    want = go_version_m(built.roots[0] / "app/dive")
    assert go["github.com/wagoodman/dive"]["version"] == want["mod"][1]  # type: ignore[index]
    assert {p["layer"] for p in go.values()} == {0}


def _doctored(tmp_path: Path, name: str, change: Callable[[bytes, int], bytes]) -> PackageHistory:
    """The package history of an image holding the dive release with its build info changed by
    ``change(binary, offset of the magic)``, at /usr/bin/NAME."""
    dive = Path(need_tool("dive")).resolve().read_bytes()
    src = tmp_path / name
    src.write_bytes(change(dive, dive.find(MAGIC)))
    built = pi.build_image(tmp_path, name, [(f"COPY {name}", lambda r: _put(r, src, f"usr/bin/{name}"))])
    with open_archive(built.archive) as a:
        h = package_history(load(a, a.images[0]))
    assert not [p for p in h.packages if p.ecosystem is Ecosystem.GO]
    return h


def test_a_binary_with_broken_build_info_is_a_warning(tmp_path):
    h = _doctored(
        tmp_path, "broken", lambda d, at: d[: at + 32] + b"\xff" * 12 + d[at + 44 :]
    )  # garbage lengths
    assert any("/usr/bin/broken" in w and "does not end" in w for w in h.warnings), h.warnings


def test_go_binaries_are_read_only_where_they_changed(go_image, monkeypatch):
    built, _ = go_image
    from layerscope.core.packages import reading

    streamed: list[str] = []
    real = reading.MetadataReader.stream_many

    def spy(self, files):  # type: ignore[no-untyped-def]
        for paths, chunks in real(self, files):
            streamed.extend(paths)
            yield paths, chunks

    monkeypatch.setattr(reading.MetadataReader, "stream_many", spy)
    with open_archive(built.archive) as a:
        package_history(load(a, a.images[0]))
    # one pass over each executable a layer wrote (ls: its first chunk only); nothing for the layer
    # that only removed dive
    assert sorted(streamed) == ["app/dive", "usr/bin/ls", "usr/local/bin/tool", "usr/local/bin/tool"]


def test_the_budget_stops_the_reading_of_go_binaries(go_image, monkeypatch):
    built, _ = go_image
    from layerscope.core import limits

    monkeypatch.setattr(limits, "MAX_PACKAGE_READ_BYTES", 3 << 20)  # less than the binaries
    with open_archive(built.archive) as a:
        h = package_history(load(a, a.images[0]))
    assert any("bytes in all" in w for w in h.warnings), h.warnings
    # what could be read is right; nothing was made up from a binary read in part
    truth = _go_at(built.roots[-1])
    for p in h.packages:
        if p.ecosystem is Ecosystem.GO:
            assert truth.get((p.source, p.name)) == p.version


def test_a_go_binary_built_before_go_1_18_is_said_unsupported(tmp_path):
    h = _doctored(tmp_path, "old", lambda d, at: d[: at + 15] + bytes([d[at + 15] & ~0x2]) + d[at + 16 :])
    assert any("/usr/bin/old" in u and "before Go 1.18" in u for u in h.unsupported), h.unsupported


def test_a_cancel_stops_the_reading_of_a_go_binary_between_two_chunks(go_image, monkeypatch):
    """A Go binary is megabytes: the scan looks for a cancel at each chunk it streams, not only
    between layers."""
    built, _ = go_image
    from layerscope.core.errors import Cancelled
    from layerscope.core.packages import reading

    chunks_read: list[int] = []
    real = reading.MetadataReader._charged

    def counting(self, path, chunks, broken):  # type: ignore[no-untyped-def]
        for c in real(self, path, chunks, broken):
            chunks_read.append(len(c))
            yield c

    monkeypatch.setattr(reading.MetadataReader, "_charged", counting)
    with open_archive(built.archive) as a:
        s = load(a, a.images[0])
        with pytest.raises(Cancelled):
            package_history(s, cancelled=lambda: len(chunks_read) >= 3)
    assert len(chunks_read) == 3  # the third chunk's check stopped it: no fourth was read
