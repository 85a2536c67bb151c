"""The file comparison as a table: tiny images built in memory, one kind of change each, and what
``diff`` must say about every path (mtime counts only in strict mode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from layerscope.core.compare.diff import ImageDiff, diff_images
from layerscope.core.compare.files import Aspect
from layerscope.core.compare.verdict import Outcome
from layerscope.core.kinds import ChangeKind
from layerscope.core.session import load
from layerscope.core.usecases.image import open_image
from tests.imagebuilder import (
    Device,
    Dir,
    Entry,
    File,
    Hardlink,
    Image,
    Layer,
    Opaque,
    Symlink,
    Whiteout,
    build,
)

A, R, M = ChangeKind.ADDED, ChangeKind.REMOVED, ChangeKind.MODIFIED
T0 = 1700000000


@dataclass
class Case:
    name: str
    a: list[list[Entry]]
    b: list[list[Entry]]
    expect: dict[str, tuple[ChangeKind, tuple[Aspect, ...]]]
    outcome: Outcome
    strict: bool = False
    delta: int = 0
    config: dict[str, object] = field(default_factory=dict)


BASE = [Dir("etc"), File("etc/app.conf", b"v=1\n"), Dir("d"), File("d/x", b"x"), File("d/y", b"yy")]

CASES = [
    Case("the same files", [BASE], [BASE], {}, Outcome.IDENTICAL),
    Case(
        "same size, other bytes",
        [[File("f", b"v=1")]],
        [[File("f", b"v=2")]],
        {"f": (M, (Aspect.CONTENT,))},
        Outcome.DIFFERENT,
    ),
    Case(
        "same bytes in another layer stack",
        [[File("f", b"v")]],
        [[Dir("d")], [File("f", b"v")]],
        {"d": (A, ())},
        Outcome.DIFFERENT,
    ),
    Case(
        "size",
        [[File("f", b"x")]],
        [[File("f", b"xyz")]],
        {"f": (M, (Aspect.SIZE,))},
        Outcome.DIFFERENT,
        delta=2,
    ),
    Case(
        "mode only",
        [[File("f", b"x")]],
        [[File("f", b"x", mode=0o600)]],
        {"f": (M, (Aspect.MODE,))},
        Outcome.SAME_CONTENT,
    ),
    Case(
        "uid only",
        [[File("f", b"x")]],
        [[File("f", b"x", uid=1000)]],
        {"f": (M, (Aspect.UID,))},
        Outcome.SAME_CONTENT,
    ),
    Case(
        "gid only",
        [[File("f", b"x")]],
        [[File("f", b"x", gid=50)]],
        {"f": (M, (Aspect.GID,))},
        Outcome.SAME_CONTENT,
    ),
    Case(
        "xattrs only",
        [[File("f", b"x")]],
        [[File("f", b"x", xattrs={"user.comment": b"hi"})]],
        {"f": (M, (Aspect.XATTRS,))},
        Outcome.SAME_CONTENT,
    ),
    Case(
        "mtime only, by default",
        [[File("f", b"x")]],
        [[File("f", b"x", mtime=T0 + 60)]],
        {},
        Outcome.SAME_CONTENT,
    ),
    Case(
        "mtime only, strict",
        [[File("f", b"x")]],
        [[File("f", b"x", mtime=T0 + 60)]],
        {"f": (M, (Aspect.MTIME,))},
        Outcome.SAME_CONTENT,
        strict=True,
    ),
    Case(
        "symlink retargeted",
        [[Symlink("l", "a")]],
        [[Symlink("l", "b")]],
        {"l": (M, (Aspect.LINK,))},
        Outcome.DIFFERENT,
    ),
    Case(
        "hardlink retargeted",
        [[File("a", b"1"), File("c", b"1"), Hardlink("h", "a")]],
        [[File("a", b"1"), File("c", b"1"), Hardlink("h", "c")]],
        {"h": (M, (Aspect.LINK,))},
        Outcome.DIFFERENT,
    ),
    Case(
        "a file replaced by a folder",
        [[File("p", b"abc")]],
        [[Dir("p"), File("p/q", b"q")]],
        {"p": (M, (Aspect.TYPE, Aspect.MODE)), "p/q": (A, ())},
        Outcome.DIFFERENT,
        delta=-2,
    ),
    Case(
        "a folder replaced by a file",
        [[Dir("p"), File("p/q", b"q")]],
        [[File("p", b"abc", mode=0o755)]],
        {"p": (M, (Aspect.TYPE,)), "p/q": (R, ())},
        Outcome.DIFFERENT,
        delta=2,
    ),
    Case(
        "a whiteout removes a folder and all it holds",
        [BASE],
        [BASE, [Whiteout("d")]],
        {"d": (R, ()), "d/x": (R, ()), "d/y": (R, ())},
        Outcome.DIFFERENT,
        delta=-3,
    ),
    Case(
        "an opaque folder hides what was below it",
        [BASE],
        [BASE, [Opaque("d"), Dir("d"), File("d/z", b"zzzz")]],
        {"d/x": (R, ()), "d/y": (R, ()), "d/z": (A, ())},
        Outcome.DIFFERENT,
        delta=1,
    ),
    Case(
        "device numbers",
        [[Dir("dev"), Device("dev/null", major=1, minor=3)]],
        [[Dir("dev"), Device("dev/null", major=1, minor=5)]],
        {"dev/null": (M, (Aspect.DEVICE,))},
        Outcome.DIFFERENT,
    ),
    Case(
        "a config setting only",
        [[File("f", b"x")]],
        [[File("f", b"x")]],
        {},
        Outcome.SAME_CONTENT,
        config={"Env": ["A=2"]},
    ),
]


def _load_diff(tmp_path: Path, case: Case) -> ImageDiff:
    def image(layers: list[list[Entry]], config: dict[str, object]) -> Image:
        return Image([Layer(es, created_by=f"step {i}") for i, es in enumerate(layers)], config_extra=config)

    pa = build(image(case.a, {}), tmp_path / "a.tar", "docker25")
    pb = build(image(case.b, case.config), tmp_path / "b.tar", "oci-archive", compression="gzip")
    with open_image(pa) as (ar, ia), open_image(pb) as (br, ib):
        return diff_images(load(ar, ia), load(br, ib), strict=case.strict)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_what_diff_says_about_each_path(tmp_path, case):
    d = _load_diff(tmp_path, case)
    got = {x.path: (x.change, x.what) for x in d.files.differences()}
    assert got == case.expect
    assert d.verdict.outcome is case.outcome, d.verdict.text
    assert d.files.size_delta == case.delta == d.files.folder_delta.get("", 0)
    assert d.verdict.identical == (case.outcome is Outcome.IDENTICAL)


def test_folder_deltas_add_up_to_the_top(tmp_path):
    case = Case(
        "growth",
        [[Dir("a"), Dir("a/b"), File("a/b/f", b"1"), Dir("c"), File("c/g", b"12345")]],
        [[Dir("a"), Dir("a/b"), File("a/b/f", b"1" * 101), File("a/h", b"xx"), Dir("c")]],
        {},
        Outcome.DIFFERENT,
    )
    d = _load_diff(tmp_path, case)
    assert dict(d.files.folder_delta) == {"": 100 + 2 - 5, "a": 102, "a/b": 100, "c": -5}
    assert d.files.biggest_folders() == [("a", 102), ("a/b", 100), ("c", -5)]
    assert d.verdict.text == "3 files differ (1 added, 1 removed, 1 changed), +97 bytes"


def test_a_comparison_can_be_cancelled(tmp_path):
    from layerscope.core.compare.files import compare_files
    from layerscope.core.compare.side import side_of
    from layerscope.core.errors import Cancelled

    pa = build(Image([Layer([File("f", b"v=1")])]), tmp_path / "a.tar", "docker25")
    pb = build(Image([Layer([File("f", b"v=2")])]), tmp_path / "b.tar", "docker25")
    with open_image(pa) as (ar, ia), open_image(pb) as (br, ib):
        a, b = side_of(load(ar, ia)), side_of(load(br, ib))
        with pytest.raises(Cancelled):
            compare_files(a, b, cancelled=lambda: True)
