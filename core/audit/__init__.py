"""The audit: secrets and risky files an image ships, in every layer, including the ones a later layer
"deleted" (they are still in the image), with the layer that stores each and the layer that hid it.

``audit(loaded)`` is the entry (CLI and GUI alike); ``Finding`` its values; ``rules`` names every rule
with its severity and the public rule set its facts came from; ``AllowList`` what the user accepts.
"""

from __future__ import annotations

from .allow import AllowList, load_allow_list, read_allow_file
from .finding import Finding, Hidden, Redacted
from .rules import RULES, Rule, RuleInfo, Severity
from .scan import STAGE, AuditReport, audit

__all__ = [
    "RULES",
    "STAGE",
    "AllowList",
    "AuditReport",
    "Finding",
    "Hidden",
    "Redacted",
    "Rule",
    "RuleInfo",
    "Severity",
    "audit",
    "load_allow_list",
    "read_allow_file",
]
