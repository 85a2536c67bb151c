"""Risky modes and nodes in the final filesystem: setuid and setgid files, world-writable files and
folders without the sticky bit, device nodes outside /dev.

Unlike a secret, a mode is only a risk where it takes effect: a setuid copy that a later layer
replaced is bytes in a lower layer, not a setuid program a container can run. So these rules read the
merged tree (each node with the layer that made it), not every layer's copies.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..display import mode_string
from ..kinds import EntryType
from ..merge import ImageTree
from ..progress import CancelCheck, check_cancelled
from .finding import Finding
from .rules import Rule

CHUNK = 2048
"""Nodes looked at between two cancel checks."""

_FILE, _HARDLINK, _DIR = EntryType.FILE, EntryType.HARDLINK, EntryType.DIR
_CHAR, _BLOCK = EntryType.CHAR, EntryType.BLOCK


def filesystem_findings(tree: ImageTree, cancelled: CancelCheck | None = None) -> Iterator[Finding]:
    """The setuid, setgid, world-writable and device-node findings of the merged tree, in path order.

    Raises Cancelled."""
    nodes = sorted(tree.nodes.items())
    for start in range(0, len(nodes), CHUNK):
        check_cancelled(cancelled)
        for path, n in nodes[start : start + CHUNK]:
            e = n.entry
            if e is None:
                continue
            t, mode = e.type, e.mode
            if t is _FILE or t is _HARDLINK:
                if mode & 0o4000:
                    yield _finding(Rule.SETUID, path, n.layer, t, mode, f"setuid, owner uid {e.uid}")
                if mode & 0o2000:
                    yield _finding(Rule.SETGID, path, n.layer, t, mode, f"setgid, group gid {e.gid}")
                if mode & 0o002:
                    yield _finding(Rule.WORLD_WRITABLE, path, n.layer, t, mode, "a file anyone can write")
            elif t is _DIR:
                if mode & 0o002 and not mode & 0o1000:
                    yield _finding(
                        Rule.WORLD_WRITABLE,
                        path,
                        n.layer,
                        t,
                        mode,
                        "a folder anyone can write, without the sticky bit",
                    )
            elif (t is _CHAR or t is _BLOCK) and not (path == "dev" or path.startswith("dev/")):
                major, minor = e.device
                yield _finding(
                    Rule.DEVICE_OUTSIDE_DEV,
                    path,
                    n.layer,
                    t,
                    mode,
                    f"{t.value} device {major}:{minor} outside /dev",
                )


def _finding(rule: Rule, path: str, layer: int, t: EntryType, mode: int, what: str) -> Finding:
    return Finding(rule, "/" + path, layer, f"{what} ({mode_string(t.value, mode)})")
