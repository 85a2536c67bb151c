"""The audit of one loaded image: every layer's stored files, the final filesystem, the config and the
history, each finding with the layer that stores it and the layer that hid it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..layers.index import LayerIndex
from ..limits import MAX_AUDIT_FINDINGS
from ..progress import CancelCheck, StageProgress, check_cancelled
from .allow import AllowList
from .content import Candidate, FileSecret, LayerSecrets, candidates, read_bytes, scan_layer
from .filesystem import filesystem_findings
from .finding import Finding
from .hiding import hidden_by
from .history import config_findings, history_findings
from .rules import Severity

if TYPE_CHECKING:
    from ..session import LoadedImage

SECOND_CORE_BYTES = 32 << 20
"""Bytes to read below which a second process costs more than it saves."""
STAGE = "auditing files"
"""The progress stage of the content scan (done, total: bytes)."""


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The findings of one image, most severe first (then by layer and path), and what was left out.

    ``allowed`` counts the findings the allow-list left out, ``fixtures`` the secrets found in
    published test fixtures (not reported); ``files_read`` / ``bytes_read`` what the content scan read.
    """

    findings: tuple[Finding, ...]
    allowed: int = 0
    fixtures: int = 0
    files_read: int = 0
    bytes_read: int = 0
    warnings: tuple[str, ...] = ()
    counts: dict[Severity, int] = field(default_factory=dict)

    def at_or_above(self, threshold: Severity) -> list[Finding]:
        """The findings of ``threshold``'s severity or worse."""
        return [f for f in self.findings if f.severity.rank >= threshold.rank]

    def as_json(self) -> dict[str, object]:
        """The report as ``audit --json`` prints it (``findings`` first)."""
        return {
            "findings": [f.as_json() for f in self.findings],
            "counts": {s.value: self.counts.get(s, 0) for s in reversed(Severity)},
            "allowed": self.allowed,
            "fixtures": self.fixtures,
            "files_read": self.files_read,
            "bytes_read": self.bytes_read,
            "warnings": list(self.warnings),
        }


def audit(
    loaded: LoadedImage,
    allow: AllowList | None = None,
    deep: bool = False,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
    second_core: bool = False,
) -> AuditReport:
    """Audit ``loaded``: secrets in every layer's stored files (``deep``: in package trees too), risky
    modes of the final filesystem, the config and the history; ``allow`` leaves findings out.

    ``second_core`` (the command line only: it forks) reads half of the layers in a child process.
    Raises Cancelled."""
    allow = allow or AllowList()
    found: list[Finding] = []
    found.extend(config_findings(loaded.image))
    found.extend(history_findings(loaded.image))
    check_cancelled(cancelled)
    found.extend(filesystem_findings(loaded.tree, cancelled))
    scans = _scan_contents(loaded, deep, progress, cancelled, second_core)
    fixtures = 0
    warnings: list[str] = []
    for s in scans:
        warnings.extend(s.warnings)
        for fs in s.found:
            if fs.fixture:
                fixtures += 1
            else:
                found.append(_file_finding(loaded, fs))
    kept = [f for f in found if not allow.allows(f)]
    allowed = len(found) - len(kept)
    kept.sort(key=_order)
    if len(kept) > MAX_AUDIT_FINDINGS:
        warnings.append(f"{len(kept) - MAX_AUDIT_FINDINGS} more findings are not listed")
        kept = kept[:MAX_AUDIT_FINDINGS]
    counts = Counter(f.severity for f in kept)
    return AuditReport(
        tuple(kept),
        allowed=allowed,
        fixtures=fixtures,
        files_read=sum(s.files for s in scans),
        bytes_read=sum(s.bytes for s in scans),
        warnings=tuple(warnings),
        counts={s: counts.get(s, 0) for s in Severity},
    )


def _order(f: Finding) -> tuple[int, int, str, int]:
    line = f.secret.line if f.secret is not None and f.secret.line is not None else 0
    return (-f.severity.rank, -1 if f.layer is None else f.layer, f.path or "", line)


def _file_finding(loaded: LoadedImage, fs: FileSecret) -> Finding:
    hid = hidden_by(loaded.tree, fs.layer, fs.entry)
    if fs.secret is None:  # the name alone (an id_rsa that holds no recognisable key)
        detail = f"named like an SSH private key; its content ({fs.entry.size} bytes) is not a recognised key"
    else:
        detail = str(fs.secret)
    return Finding(
        fs.rule,
        "/" + fs.entry.path,
        fs.layer,
        detail,
        hidden_by=hid[0] if hid else None,
        hidden=hid[1] if hid else None,
        secret=fs.secret,
    )


def _scan_contents(
    loaded: LoadedImage,
    deep: bool,
    progress: StageProgress | None,
    cancelled: CancelCheck | None,
    second_core: bool,
) -> list[LayerSecrets]:
    """Each layer's candidates read in one pass; with ``second_core``, about half of the bytes in a
    forked child."""
    plan = [(li, candidates(li, deep)) for li in loaded.layers]
    total = sum(read_bytes(c) for _, c in plan)
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(STAGE, min(done, total), total)

    if progress is not None:
        progress(STAGE, 0, total)
    child_part: list[tuple[int, list[Candidate]]] = []
    if second_core and total > SECOND_CORE_BYTES:
        child_part, plan_here = _split(plan)
    else:
        plan_here = plan
    wait = None
    if child_part:
        from ..parallel import fork_call

        archive, by_index = loaded.archive, {li.index: li for li in loaded.layers}

        def child() -> list[LayerSecrets]:
            return [scan_layer(archive, by_index[i], c) for i, c in child_part]

        wait = fork_call(child)
    scans = [scan_layer(loaded.archive, li, c, on_bytes, cancelled) for li, c in plan_here]
    if wait is not None:
        scans.extend(wait())
        on_bytes(total - done)
    scans.sort(key=lambda s: s.layer)
    return scans


_Plan = list[tuple[LayerIndex, list[Candidate]]]


def _split(plan: _Plan) -> tuple[list[tuple[int, list[Candidate]]], _Plan]:
    """The first half of the bytes to read for the child, the rest for this process, cutting a layer
    in two where the half falls (one large layer is the common case); each side reads its part of a
    layer in one pass, in offset order."""
    half = sum(read_bytes(c) for _, c in plan) // 2
    theirs: list[tuple[int, list[Candidate]]] = []
    mine: _Plan = []
    given = 0
    for li, cands in plan:
        ordered = sorted(cands, key=lambda c: c[0].offset)
        cut = 0
        while cut < len(ordered) and given < half:
            given += read_bytes(ordered[cut : cut + 1])
            cut += 1
        if cut:
            theirs.append((li.index, ordered[:cut]))
        if cut < len(ordered):
            mine.append((li, ordered[cut:]))
    return theirs, mine
