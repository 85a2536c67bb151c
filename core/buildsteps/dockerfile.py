"""An image's history printed as a Dockerfile (what dfimage and dredge rebuild): one instruction per
step, each layer step preceded by a comment with its identities.

The files an ADD or COPY took are not in the image any more as sources: the classic builder names
them by content (``file:<sha256>``, ``dir:<sha256>``), BuildKit by their names in the build
context; either way a comment gives the layer's diff_id, the digest of what the step added. Steps
whose text names no instruction (``docker import``, notes of umoci or buildah) become comments.
"""

from __future__ import annotations

from .steps import BuildHistory, BuildStep, Instruction


def _copy_line(step: BuildStep) -> tuple[list[str], str]:
    """(comments, line) for an ADD or COPY step."""
    word, _, rest = step.command.partition(" ")
    notes: list[str] = []
    src, sep, dest = rest.partition(" in ")
    if sep and src.split(":", 1)[0] in ("file", "dir", "multi"):  # the classic builder's form
        kind, _, digest = src.partition(":")
        notes.append(f"# source gone: {kind}:{digest} is the sha256 of the {kind} content {word} took")
        return notes, f"{word} {src} {dest.strip()}"
    if step.diff_id:
        notes.append(f"# source from the build context; its content is layer {step.layer}: {step.diff_id}")
    return notes, step.command


def as_dockerfile(history: BuildHistory, name: str = "") -> str:
    """The history as Dockerfile text (ends with a newline)."""
    out = [f"# rebuilt from the history of {name or 'the image'} (image id {history.image_id})"]
    out.append("# the history does not say where the base image ends: its steps are included")
    for s in history.steps:
        if s.layer is not None and not s.empty:
            ids = f"diff_id {s.diff_id}" if s.diff_id else "diff_id unknown"
            if s.chain_id:
                ids += f", ChainID {s.chain_id}"
            if s.v1_id:
                ids += f", v1 id {s.v1_id}"
            out.append(f"# layer {s.layer}: {ids}")
        if s.instruction is None:
            text = s.command or "(no command recorded)"
            out.extend(f"# {line}" for line in text.splitlines() or [text])
            continue
        if s.instruction in (Instruction.ADD, Instruction.COPY):
            notes, line = _copy_line(s)
            out.extend(notes)
        else:
            line = s.command
        out.append(" \\\n    ".join(line.splitlines()) if "\n" in line else line)
    return "\n".join(out) + "\n"
