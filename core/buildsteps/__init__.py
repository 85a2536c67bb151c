"""What built an image, step by step: instructions, readable commands, and each layer step's
identities (diff_id, ChainID, the legacy v1 id); the history as a Dockerfile.

``build_history(archive, image)`` is the entry point (CLI ``history``, the GUI's History view);
it needs the archive's records only, not the layers' contents.
"""

from __future__ import annotations

from .dockerfile import as_dockerfile
from .steps import BuildHistory, BuildStep, Instruction, build_history, chain_ids, classify

__all__ = [
    "BuildHistory",
    "BuildStep",
    "Instruction",
    "as_dockerfile",
    "build_history",
    "chain_ids",
    "classify",
]
