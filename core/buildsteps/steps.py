"""The build history as steps: each step's Dockerfile instruction, readable command, and for a layer
step its identities (diff_id, ChainID, the legacy v1 id).

Instructions are recognised in the two forms builders record: the classic builder's
``/bin/sh -c #(nop)  CMD ["sh"]`` (``#(nop)`` marks a step that ran nothing; a step without it is a
RUN, ``|N A=1 ...`` before the shell naming its N build arguments) and BuildKit's
``RUN /bin/sh -c ... # buildkit`` / ``COPY . /app # buildkit`` / ``ENV A=1``. ChainIDs follow the
image spec (config.md): ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from ..archive.records import Archive, ImageRecord
from ..display import readable_command, redact_secrets
from .v1 import legacy_ids


class Instruction(StrEnum):
    """A Dockerfile instruction, as the history names it."""

    ADD = "ADD"
    ARG = "ARG"
    CMD = "CMD"
    COPY = "COPY"
    ENTRYPOINT = "ENTRYPOINT"
    ENV = "ENV"
    EXPOSE = "EXPOSE"
    HEALTHCHECK = "HEALTHCHECK"
    LABEL = "LABEL"
    MAINTAINER = "MAINTAINER"
    ONBUILD = "ONBUILD"
    RUN = "RUN"
    SHELL = "SHELL"
    STOPSIGNAL = "STOPSIGNAL"
    USER = "USER"
    VOLUME = "VOLUME"
    WORKDIR = "WORKDIR"


_WORDS = {i.value for i in Instruction}
_SHELL = "/bin/sh -c "
_NOP = "#(nop)"
_ARGS = re.compile(r"^\|(\d+)\s+")
_BUILDKIT = " # buildkit"


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One history step. ``instruction`` is None when the text names none (``docker import``, a
    umoci or buildah note); ``command`` is the step as a Dockerfile line (or the text as it is).
    ``layer``, ``diff_id``, ``chain_id`` are None for empty steps; ``v1_id``/``v1_parent`` only in
    legacy ``docker save`` archives."""

    index: int
    instruction: Instruction | None
    command: str
    created: str | None
    created_by: str
    comment: str
    empty: bool
    layer: int | None
    diff_id: str | None
    chain_id: str | None
    v1_id: str | None
    v1_parent: str | None


@dataclass(frozen=True, slots=True)
class BuildHistory:
    """Every step of an image bottom to top, and the image's id (the config digest)."""

    image_id: str
    steps: tuple[BuildStep, ...]
    warnings: tuple[str, ...] = ()

    def step_of_layer(self, layer: int) -> BuildStep | None:
        """The step that made layer ``layer``."""
        return next((s for s in self.steps if s.layer == layer), None)


def chain_ids(diff_ids: list[str | None]) -> list[str | None]:
    """The ChainID of each layer from the diff_ids (None from the first unknown diff_id on)."""
    out: list[str | None] = []
    prev: str | None = None
    for n, d in enumerate(diff_ids):
        if d is None or (n and prev is None):
            prev = None
        elif n == 0:
            prev = d
        else:
            prev = "sha256:" + hashlib.sha256(f"{prev} {d}".encode()).hexdigest()
        out.append(prev)
    return out


def _strip_args(s: str) -> str:
    """``|2 A=1 B=2 /bin/sh -c x`` -> ``/bin/sh -c x`` (the build arguments a RUN saw)."""
    m = _ARGS.match(s)
    if m is None:
        return s
    rest = s[m.end() :]
    n = int(m.group(1))
    for _ in range(n):
        word, sep, after = rest.partition(" ")
        if not sep or "=" not in word:
            return s
        rest = after
    return rest


def classify(created_by: str) -> tuple[Instruction | None, str]:
    """The instruction a history text records and the step as a Dockerfile line."""
    s = created_by.strip()
    buildkit = s.endswith(_BUILDKIT)
    s = s.removesuffix(_BUILDKIT).strip()
    word = s.split(" ", 1)[0]
    if word in _WORDS:  # BuildKit: the instruction is the first word
        body = s[len(word) :].strip()
        if word == "RUN":
            body = _strip_args(body)
            body = body.removeprefix(_SHELL) if body.startswith(_SHELL) else body
            return Instruction.RUN, f"RUN {body}".rstrip()
        if word == "EXPOSE":
            body = _expose(body)
        return Instruction(word), f"{word} {body}".rstrip()
    s2 = _strip_args(s)
    if s2.startswith(_SHELL):
        rest = s2[len(_SHELL) :].strip()
        if rest.startswith(_NOP):
            line = rest[len(_NOP) :].strip()
            w = line.split(" ", 1)[0]
            if w in _WORDS:
                if w == "EXPOSE":
                    line = f"EXPOSE {_expose(line[len(w) :].strip())}"
                return Instruction(w), line
            return None, line
        return Instruction.RUN, f"RUN {rest}"
    if buildkit:
        return None, s
    return None, readable_command(created_by) if created_by.strip() else ""


def _expose(body: str) -> str:
    """BuildKit records ports as a Go map (``map[80/tcp:{} 443/tcp:{}]``): as a Dockerfile spells them."""
    if body.startswith("map[") and body.endswith("]"):
        return " ".join(p.removesuffix(":{}") for p in body[4:-1].split())
    return body


def build_history(archive: Archive, image: ImageRecord) -> BuildHistory:
    """Every history step of ``image`` with its instruction and identities. Problems reading the
    legacy layer folders are warnings."""
    warnings: list[str] = []
    diff_ids = [d.diff_id for d in image.layers]
    chains = chain_ids(diff_ids)
    v1 = legacy_ids(archive, image, warnings)
    steps: list[BuildStep] = []
    for n, h in enumerate(image.history):
        instruction, command = classify(h.created_by)
        command = redact_secrets(command)  # shown: secrets in their redacted form
        if not h.created_by and h.comment:
            command = f"({h.comment})"
        layer = h.layer
        ids = v1[layer] if layer is not None and layer < len(v1) else (None, None)
        steps.append(
            BuildStep(
                n,
                instruction,
                command,
                h.created,
                h.created_by,
                h.comment,
                h.empty_layer or layer is None,
                layer,
                diff_ids[layer] if layer is not None and layer < len(diff_ids) else None,
                chains[layer] if layer is not None and layer < len(chains) else None,
                ids[0],
                ids[1],
            )
        )
    return BuildHistory(image.config_digest, tuple(steps), tuple(warnings))
